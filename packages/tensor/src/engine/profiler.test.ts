import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { batchNorm2d, conv2d, getEngine, init, randn, tidy } from '../index.js';
import { formatProfile, opType, profileRows, startProfiling, stopProfiling } from './profiler.js';

beforeAll(async () => {
  await init();
});

afterEach(async () => {
  const engine = getEngine();
  if (engine.profiler) await stopProfiling(engine);
});

/** A training step of a tiny convnet: dense and depthwise convs, batch norm, swish, a mean and its backward. */
async function tinyConvNetStep(): Promise<void> {
  const x = randn([2, 4, 16, 16]);
  const w1 = randn([8, 4, 3, 3]).requiresGrad_();
  const w2 = randn([8, 1, 3, 3]).requiresGrad_();
  const loss = tidy(() => {
    const h = conv2d(x, w1, null, { padding: 1 });
    const n = batchNorm2d(h, null, null, null, null, { training: true });
    const d = conv2d(n.silu(), w2, null, { padding: 1, groups: 8 });
    const l = d.mean();
    l.backward();
    return l;
  });
  await loss.item();
  for (const t of [x, w1, w2, loss]) t.dispose();
}

describe('profiler', () => {
  it('times every op type a tiny conv net runs, with totals above zero', async () => {
    const engine = getEngine();
    if (!engine.device.features.has('timestamp-query')) {
      // The software GPU of this project offers timestamp-query; a device without it gets the error below.
      expect(() => startProfiling(engine)).toThrow(/timestamp-query/);
      return;
    }
    startProfiling(engine);
    await tinyConvNetStep();
    const rows = await stopProfiling(engine);
    const ops = rows.map((r) => r.op);
    expect(ops.some((op) => op.startsWith('conv2d depthwise'))).toBe(true);
    expect(ops.some((op) => op.startsWith('conv2d') && !op.includes('depthwise'))).toBe(true);
    expect(ops).toContain('batchnorm');
    expect(ops).toContain('reduce');
    for (const r of rows) {
      expect(r.count).toBeGreaterThan(0);
      expect(r.totalMs).toBeGreaterThan(0);
      expect(r.meanUs).toBeCloseTo((r.totalMs * 1000) / r.count, 6);
    }
    expect(rows.reduce((s, r) => s + r.percent, 0)).toBeCloseTo(100, 6);
    for (let i = 1; i < rows.length; i++) expect(rows[i].totalMs).toBeLessThanOrEqual(rows[i - 1].totalMs);
    expect(formatProfile(rows)).toMatch(/^batchnorm +\d+ +\d+\.\d +\d+\.\d +\d+\.\d$/m);
  });

  it('costs nothing when off: no profiler, no query set, and one pass for many dispatches', async () => {
    const engine = getEngine();
    const created: string[] = [];
    const device = engine.device as GPUDevice & { createQuerySet: GPUDevice['createQuerySet'] };
    const original = device.createQuerySet.bind(device);
    device.createQuerySet = (descriptor) => {
      created.push(descriptor.type);
      return original(descriptor);
    };
    try {
      await tinyConvNetStep();
    } finally {
      device.createQuerySet = original;
    }
    expect(engine.profiler).toBeNull();
    expect(created).toEqual([]);
  });

  it('profiles again after a stop, counting only the second stretch', async () => {
    const engine = getEngine();
    if (!engine.device.features.has('timestamp-query')) return;
    startProfiling(engine);
    await tinyConvNetStep();
    const once = await stopProfiling(engine);
    startProfiling(engine);
    await tinyConvNetStep();
    await tinyConvNetStep();
    const twice = await stopProfiling(engine);
    const count = (rows: typeof once) => rows.reduce((s, r) => s + r.count, 0);
    expect(count(twice)).toBe(2 * count(once));
  });

  it('names op types from kernel names', () => {
    expect(opType('conv2d_depthwise_dx_k5s2')).toBe('conv2d depthwise backward input');
    expect(opType('conv2d_depthwise_k3s1')).toBe('conv2d depthwise');
    expect(opType('conv2d_direct_forward_3x3_b8x8')).toBe('conv2d direct forward');
    expect(opType('conv2d_gradWeight_subgroups_3x3_c2_pad1')).toBe('conv2d subgroups gradWeight');
    expect(opType('matmul_bias')).toBe('matmul');
    expect(opType('adamw')).toBe('optimizer');
    expect(opType('batch_norm_backward_sums')).toBe('batchnorm');
    expect(opType('mul')).toBe('elementwise');
    expect(opType('silu_backward')).toBe('elementwise');
    expect(opType('ce_backward')).toBe('loss / softmax');
    expect(opType('crossEntropy_mean')).toBe('loss / softmax');
    expect(opType('conv2d_reduce_partials')).toBe('conv2d partial-sum reduce');
    expect(opType('conv2d_gradWeight_3x3_8x8:8x8x8')).toBe('conv2d gemm gradWeight');
    const rows = profileRows(
      new Map([
        ['mul', { ns: 1e6, count: 2 }],
        ['add', { ns: 3e6, count: 2 }],
        ['adamw', { ns: 6e6, count: 1 }],
      ]),
    );
    expect(rows).toEqual([
      { op: 'optimizer', count: 1, totalMs: 6, percent: 60, meanUs: 6000 },
      { op: 'elementwise', count: 4, totalMs: 4, percent: 40, meanUs: 1000 },
    ]);
  });
});
