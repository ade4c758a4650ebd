import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  GOLDEN_GROUPS,
  type GoldenCase,
  type GoldenTensor,
  goldenMismatch,
  goldenPath,
  loadGolden,
  loadGoldenFile,
  parseGolden,
} from './golden.js';

describe('golden fixtures', () => {
  it('hold exactly the known groups, all from one PyTorch version', () => {
    const files = readdirSync(dirname(goldenPath('conv2d'))).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(GOLDEN_GROUPS.map((g) => `${g}.json`).sort());
    const versions = new Set(GOLDEN_GROUPS.map((g) => loadGoldenFile(g).torchVersion));
    expect(versions.size).toBe(1);
  });

  for (const group of GOLDEN_GROUPS) {
    it(`${group}: every case is consistent`, () => {
      const cases = loadGolden(group);
      expect(cases.length).toBeGreaterThan(0);
      for (const c of cases) {
        expect(Object.keys(c.outputs), c.name).toContain('output');
        for (const tensor of [...allTensors(c)]) {
          expect(tensor.data.length, c.name).toBe(tensor.shape.reduce((n, d) => n * d, 1));
        }
        for (const [name, grad] of Object.entries(c.grads)) {
          expect(grad.shape, `${c.name} grads.${name}`).toEqual(c.inputs[name].shape);
        }
        if (Object.keys(c.grads).length > 0) {
          expect(c.gradOutput?.shape, c.name).toEqual(c.outputs['output'].shape);
        }
      }
    });
  }

  it('store inputs as float32 values, so uploading them loses nothing', () => {
    for (const group of GOLDEN_GROUPS) {
      for (const c of loadGolden(group)) {
        for (const [name, input] of Object.entries(c.inputs)) {
          const rounded = Float32Array.from(input.data);
          expect(
            input.data.every((v, i) => v === rounded[i]),
            `${c.name} ${name}`,
          ).toBe(true);
        }
      }
    }
  });

  it('cover the cases the engine must match', () => {
    const names = (group: (typeof GOLDEN_GROUPS)[number]) => loadGolden(group).map((c) => c.name);
    expect(names('conv2d')).toEqual(
      expect.arrayContaining(['same_k3_stride2_pad0101', 'same_k5_stride2_pad1212', 'depthwise_k3']),
    );
    const norms = loadGolden('batch_norm');
    expect(norms.some((c) => c.params['training'] === true)).toBe(true);
    expect(norms.some((c) => c.params['training'] === false)).toBe(true);
    expect(
      loadGolden('softmax').some((c) => c.op === 'cross_entropy' && c.params['ignore_index'] === 255),
    ).toBe(true);
  });
});

// These recompute a few goldens in plain float64 TypeScript, so the README's description of the layout
// (row-major data, conv2d's pad order, running statistics) is checked, not just trusted.
describe('golden fixtures mean what the README says', () => {
  it('conv2d: pad is [left, right, top, bottom] applied before the convolution', () => {
    for (const c of loadGolden('conv2d')) {
      const got = naiveConv2d(c);
      expect(goldenMismatch(got, c.outputs['output'], { rtol: 1e-12, atol: 1e-12 }, c.name)).toBeNull();
    }
  });

  it('matmul: 2-D products of row-major matrices', () => {
    for (const c of loadGolden('matmul').filter((m) => m.inputs['input'].shape.length === 2)) {
      const [m, k] = c.inputs['input'].shape;
      const n = c.inputs['other'].shape[1];
      const a = c.inputs['input'].data;
      const b = c.inputs['other'].data;
      const got = new Float64Array(m * n);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
          got[i * n + j] = s;
        }
      expect(goldenMismatch(got, c.outputs['output'], { rtol: 1e-12, atol: 1e-12 }, c.name)).toBeNull();
    }
  });

  it('batch_norm: training updates running_var with the unbiased batch variance', () => {
    for (const c of loadGolden('batch_norm').filter((b) => b.params['training'] === true)) {
      const [n, ch, h, w] = c.inputs['input'].shape;
      const x = c.inputs['input'].data;
      const momentum = c.params['momentum'] as number;
      const count = n * h * w;
      const runningMean = new Float64Array(ch);
      const runningVar = new Float64Array(ch);
      for (let k = 0; k < ch; k++) {
        const values: number[] = [];
        for (let b = 0; b < n; b++) for (let p = 0; p < h * w; p++) values.push(x[(b * ch + k) * h * w + p]);
        const mean = values.reduce((s, v) => s + v, 0) / count;
        const unbiased = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (count - 1);
        runningMean[k] = (1 - momentum) * c.inputs['running_mean'].data[k] + momentum * mean;
        runningVar[k] = (1 - momentum) * c.inputs['running_var'].data[k] + momentum * unbiased;
      }
      const exact = { rtol: 1e-12, atol: 1e-12 };
      expect(goldenMismatch(runningMean, c.outputs['running_mean'], exact, c.name)).toBeNull();
      expect(goldenMismatch(runningVar, c.outputs['running_var'], exact, c.name)).toBeNull();
    }
  });
});

describe('parseGolden', () => {
  const good = () => loadGoldenFile('matmul');
  const serialise = (mutate: (raw: Record<string, unknown>) => void) => {
    const raw = JSON.parse(JSON.stringify(toRaw(good()))) as Record<string, unknown>;
    mutate(raw);
    return JSON.stringify(raw);
  };
  // Case -> section (inputs, grads, ...) -> tensor name -> tensor field.
  type RawCase = Record<string, Record<string, Record<string, unknown>>>;
  const firstCase = (raw: Record<string, unknown>) => (raw['cases'] as RawCase[])[0];

  it('round-trips a well-formed file', () => {
    expect(
      parseGolden(
        serialise(() => {}),
        'x.json',
      ),
    ).toEqual(good());
  });

  it('rejects data whose length does not match the shape, naming the tensor', () => {
    const text = serialise((raw) => {
      (firstCase(raw)['inputs']['input']['data'] as number[]).pop();
    });
    expect(() => parseGolden(text, 'bad.json')).toThrow(
      /bad\.json: case 0 "2d": inputs\.input: shape \[5,7\]/,
    );
  });

  it('rejects a case without outputs.output', () => {
    const text = serialise((raw) => {
      firstCase(raw)['outputs'] = {};
    });
    expect(() => parseGolden(text, 'bad.json')).toThrow(/outputs has no "output"/);
  });

  it('rejects a gradient whose shape differs from its input', () => {
    const text = serialise((raw) => {
      firstCase(raw)['grads']['other'] = firstCase(raw)['grads']['input'];
    });
    expect(() => parseGolden(text, 'bad.json')).toThrow(/grads\.other has shape \[5,7\], input has \[7,3\]/);
  });

  it('rejects non-integer values in an int64 tensor', () => {
    const text = serialise((raw) => {
      firstCase(raw)['inputs']['input']['dtype'] = 'int64';
      firstCase(raw)['grads'] = {};
      delete firstCase(raw)['grad_output'];
    });
    expect(() => parseGolden(text, 'bad.json')).toThrow(/data\[0\] is not an integer/);
  });
});

describe('goldenMismatch', () => {
  const want: GoldenTensor = { shape: [2, 2], data: [1, -2, 100, 0], dtype: 'float64' };
  const tolerance = { rtol: 1e-4, atol: 1e-5 };

  it('accepts values within atol + rtol * |want|', () => {
    expect(goldenMismatch([1 + 1e-4, -2, 100 - 9e-3, 9e-6], want, tolerance)).toBeNull();
  });

  it('names the worst element outside the tolerance, and NaN', () => {
    expect(goldenMismatch([1, -2, 100.02, 0], want, tolerance, 'out')).toMatch(/^out\[1, 0\]: got 100\.02/);
    expect(goldenMismatch([1, Number.NaN, 100, 0], want, tolerance, 'out')).toMatch(/^out\[0, 1\]: got NaN/);
  });

  it('requires integer tensors to match exactly', () => {
    const ints: GoldenTensor = { shape: [3], data: [0, 4, 2], dtype: 'int64' };
    expect(goldenMismatch([0, 4, 2], ints, tolerance)).toBeNull();
    expect(goldenMismatch([0, 3, 2], ints, tolerance)).toMatch(/\[1\]: got 3, want 4/);
  });
});

function* allTensors(c: GoldenCase): Generator<GoldenTensor> {
  yield* Object.values(c.inputs);
  yield* Object.values(c.outputs);
  yield* Object.values(c.grads);
  if (c.gradOutput) yield c.gradOutput;
}

/** The fixture file's own layout, rebuilt from a parsed one, for the malformed-file tests to edit. */
function toRaw(file: ReturnType<typeof loadGoldenFile>) {
  const tensor = (t: GoldenTensor) =>
    t.dtype === 'int64' ? { shape: t.shape, dtype: 'int64', data: t.data } : { shape: t.shape, data: t.data };
  const tensors = (r: Record<string, GoldenTensor>) =>
    Object.fromEntries(Object.entries(r).map(([k, t]) => [k, tensor(t)]));
  return {
    torch_version: file.torchVersion,
    group: file.group,
    cases: file.cases.map((c) => ({
      name: c.name,
      op: c.op,
      params: c.params,
      inputs: tensors(c.inputs),
      outputs: tensors(c.outputs),
      grads: tensors(c.grads),
      ...(c.gradOutput ? { grad_output: tensor(c.gradOutput) } : {}),
      tolerance: c.tolerance,
    })),
  };
}

/** Direct float64 convolution, zero padding read as [left, right, top, bottom]. */
function naiveConv2d(c: GoldenCase): Float64Array {
  const [n, cIn, h, w] = c.inputs['input'].shape;
  const [cOut, cInPerGroup, kh, kw] = c.inputs['weight'].shape;
  const [sh, sw] = c.params['stride'] as number[];
  const [dh, dw] = c.params['dilation'] as number[];
  const [left, right, top, bottom] = c.params['pad'] as number[];
  const groups = c.params['groups'] as number;
  const outH = Math.floor((h + top + bottom - dh * (kh - 1) - 1) / sh) + 1;
  const outW = Math.floor((w + left + right - dw * (kw - 1) - 1) / sw) + 1;
  const x = c.inputs['input'].data;
  const weight = c.inputs['weight'].data;
  const bias = c.inputs['bias']?.data;
  const cOutPerGroup = cOut / groups;
  const out = new Float64Array(n * cOut * outH * outW);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < cOut; o++)
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0; ox < outW; ox++) {
          let sum = bias ? bias[o] : 0;
          const g = Math.floor(o / cOutPerGroup);
          for (let i = 0; i < cInPerGroup; i++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const y = oy * sh + ky * dh - top;
                const xx = ox * sw + kx * dw - left;
                if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
                const ci = g * cInPerGroup + i;
                sum +=
                  x[((b * cIn + ci) * h + y) * w + xx] * weight[((o * cInPerGroup + i) * kh + ky) * kw + kx];
              }
          out[((b * cOut + o) * outH + oy) * outW + ox] = sum;
        }
  return out;
}
