import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv2dTuning } from '../ops/conv/conv-tuning.js';
import { conv2d } from '../ops/conv/conv2d.js';
import { conv2dGradInput } from '../ops/conv/conv2d-backward.js';
import { convGeometry } from '../ops/conv/params.js';
import { tensor, zeros } from '../ops/creation.js';
import { gemmInto, tilingKey } from '../ops/matmul/gemm.js';
import type { MatmulTiling } from '../ops/matmul/matmul-kernel.js';
import { Tensor } from '../tensor.js';
import {
  Autotuner,
  adapterKey,
  autotuner,
  FileTuneStore,
  MemoryTuneStore,
  setAutotune,
  sizeClass,
  type TuneJob,
} from './autotune.js';
import { init } from './engine.js';
import '../index.js';

beforeAll(async () => {
  await init();
});

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nephron-autotune-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A job whose candidates are timed by how much busy work they record: the tuner must pick the cheapest. */
function busyJob(sizes: number[]): TuneJob<number> {
  return {
    op: 'test.busy',
    shapeClass: 'c',
    candidates: sizes,
    key: (n) => `n${n}`,
    prepare: () => {
      const a = zeros([128, 128]);
      const b = zeros([128, 128]);
      const out = Tensor.empty([128, 128]);
      return {
        run: (n) => {
          for (let i = 0; i < n; i++) gemmInto(a, b, out);
        },
        dispose: () => {
          for (const t of [a, b, out]) t.dispose();
        },
      };
    },
  };
}

describe('autotuner', () => {
  it('answers with the fallback until a job has timed the candidates, then with the fastest, per adapter', async () => {
    const store = new MemoryTuneStore();
    const tuner = new Autotuner({ enabled: true, store, budgetMs: 60_000 });
    const job = busyJob([60, 1, 30]);
    expect(tuner.choose(job, 60)).toBe(60);
    await tuner.settle();
    expect(tuner.choose(job, 60)).toBe(1);
    expect(tuner.last.get('test.busy')).toBe('n1');
    expect(store.load(adapterKey())).toEqual({ 'test.busy|c': 'n1' });
    // A fresh tuner on the same store starts from the stored choice without timing again.
    const again = new Autotuner({ enabled: true, store });
    expect(again.choose(job, 60)).toBe(1);
  });

  it('is off by default in tests: the fallback always, no job queued', async () => {
    const store = new MemoryTuneStore();
    const tuner = new Autotuner({ store });
    expect(tuner.enabled).toBe(false);
    expect(tuner.choose(busyJob([5, 1]), 5)).toBe(5);
    await tuner.settle();
    expect(store.load(adapterKey())).toEqual({});
  });

  it('ignores a stored key that is no longer a candidate', () => {
    const store = new MemoryTuneStore();
    store.save(adapterKey(), { 'test.busy|c': 'n99' });
    const tuner = new Autotuner({ enabled: true, store });
    expect(tuner.choose(busyJob([3, 2]), 3)).toBe(3);
  });

  it('keeps choices in a file, written atomically and read back; a damaged file starts afresh', () => {
    const path = join(dir, 'sub', 'autotune.json');
    const store = new FileTuneStore(path, fs);
    store.save('adapter A', { 'matmul|x': '16x16' });
    store.save('adapter B', { 'matmul|x': '8x8' });
    expect(new FileTuneStore(path, fs).load('adapter A')).toEqual({ 'matmul|x': '16x16' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      'adapter A': { 'matmul|x': '16x16' },
      'adapter B': { 'matmul|x': '8x8' },
    });
    writeFileSync(path, '{ not json');
    expect(store.load('adapter A')).toEqual({});
    store.save('adapter A', { k: 'v' });
    expect(store.load('adapter A')).toEqual({ k: 'v' });
  });

  it('rounds sizes to powers of two for shape classes', () => {
    expect([1, 2, 3, 64, 65, 1000].map(sizeClass)).toEqual([1, 2, 4, 64, 128, 1024]);
  });
});

describe('matmul under the autotuner', () => {
  it('gives bit-identical results with every candidate tiling (odd sizes, edges in every tile)', async () => {
    const [m, k, n] = [37, 29, 50];
    const a = tensor(
      Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37)),
      [m, k],
    );
    const b = tensor(
      Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11)),
      [k, n],
    );
    const tilings: MatmulTiling[] = [
      { tm: 8, tn: 8, wx: 8, wy: 8, bk: 8 },
      { tm: 4, tn: 4, wx: 8, wy: 8, bk: 8 },
      { tm: 4, tn: 4, wx: 16, wy: 16, bk: 8 },
      { tm: 4, tn: 8, wx: 16, wy: 16, bk: 8 },
    ];
    let first: Float32Array | null = null;
    for (const t of tilings) {
      const out = Tensor.empty([m, n]);
      gemmInto(a, b, out, undefined, t);
      const got = (await out.toArray()) as Float32Array;
      out.dispose();
      if (first === null) first = got;
      else expect(Array.from(got), tilingKey(t)).toEqual(Array.from(first));
    }
    a.dispose();
    b.dispose();
  });

  it('tunes a matmul shape class once and then runs the winner', async () => {
    // A zero budget times the heuristic's own choice only: this checks the plumbing, the job test above the pick.
    setAutotune({ enabled: true, store: new MemoryTuneStore(), budgetMs: 0 });
    try {
      const a = tensor(new Float32Array(48 * 40).fill(1), [48, 40]);
      const b = tensor(new Float32Array(40 * 24).fill(0.5), [40, 24]);
      const out = Tensor.empty([48, 24]);
      gemmInto(a, b, out);
      await autotuner.settle();
      const chosen = autotuner.known()['matmul|64x32x64:1'];
      expect(chosen).toBeDefined();
      gemmInto(a, b, out);
      expect(autotuner.last.get('matmul')).toBe(chosen);
      expect(Array.from((await out.toArray()) as Float32Array)).toEqual(new Array(48 * 24).fill(20));
      for (const t of [a, b, out]) t.dispose();
    } finally {
      setAutotune({ enabled: false, store: new MemoryTuneStore(), budgetMs: 1500 });
    }
  });
});

describe('conv2d under the autotuner', () => {
  const wave = (n: number, f: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * f));
  const options = {
    stride: [2, 1] as [number, number],
    padding: [1, 2, 0, 1] as const,
    dilation: 2,
    groups: 2,
  };

  it('gives bit-identical forward and input gradients with every direct candidate (strided, padded, dilated, grouped)', async () => {
    const x = tensor(wave(2 * 6 * 13 * 11, 0.3), [2, 6, 13, 11]);
    const w = tensor(wave(10 * 3 * 3 * 3, 0.7), [10, 3, 3, 3]);
    const g = convGeometry(x.shape, w.shape, null, options);
    const dy = tensor(wave(2 * 10 * g.oh * g.ow, 0.9), [2, 10, g.oh, g.ow]);
    const results: number[][][] = [];
    conv2dTuning.strategy = 'direct';
    try {
      for (const tile of [
        { wx: 16, tm: 8, tn: 8 },
        { wx: 32, tm: 8, tn: 8 },
        { wx: 8, tm: 8, tn: 8 },
      ]) {
        conv2dTuning.directOverride = tile;
        const y = conv2d(x, w, null, options);
        const dx = conv2dGradInput(dy, w, g);
        results.push([
          Array.from((await y.toArray()) as Float32Array),
          Array.from((await dx.toArray()) as Float32Array),
        ]);
        y.dispose();
        dx.dispose();
      }
    } finally {
      conv2dTuning.directOverride = null;
      conv2dTuning.strategy = 'auto';
    }
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
    for (const t of [x, w, dy]) t.dispose();
  });

  it('tunes a conv shape class and records its choice', async () => {
    setAutotune({ enabled: true, store: new MemoryTuneStore(), budgetMs: 0 });
    try {
      const x = tensor(wave(1 * 4 * 9 * 9, 0.2), [1, 4, 9, 9]);
      const w = tensor(wave(5 * 4 * 3 * 3, 0.5), [5, 4, 3, 3]);
      const before = await conv2d(x, w, null, { padding: 1 }).toArray();
      await autotuner.settle();
      const keys = Object.keys(autotuner.known()).filter((k) => k.startsWith('conv2d.forward.'));
      expect(keys).toHaveLength(1);
      const after = await conv2d(x, w, null, { padding: 1 }).toArray();
      expect(Array.from(after as Float32Array)).toEqual(Array.from(before as Float32Array));
      expect(autotuner.last.get(keys[0].split('|')[0])).toBe(autotuner.known()[keys[0]]);
      x.dispose();
      w.dispose();
    } finally {
      setAutotune({ enabled: false, store: new MemoryTuneStore(), budgetMs: 1500 });
    }
  });
});
