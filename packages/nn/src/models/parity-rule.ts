import { type Tensor, tensor } from '@nephron/tensor';

/**
 * The rule that gives every tensor of the PyTorch parity fixtures its values, computed identically here and in
 * packages/nn/fixtures/generate_models.py, so 20 M weights need not be committed. A uniform number in [0, 1)
 * for element i of a key: fmix32(fnv1a(key) ^ fmix32(i + 1)) >> 8, over 2^24 (exact in float32).
 */

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function ruleUniform(key: string, n: number): Float64Array {
  const k = fnv1a(key);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (fmix32(k ^ fmix32(i + 1)) >>> 8) / 16777216;
  return out;
}

/** The value of a state-dict entry, by what its key names (the table in fixtures/README.md). */
export function ruleValues(key: string, shape: readonly number[]): Float32Array | Int32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const leaf = key.slice(key.lastIndexOf('.') + 1);
  if (leaf === 'num_batches_tracked') return new Int32Array(n).fill(3);
  const u = ruleUniform(key, n);
  const out = new Float32Array(n);
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const bound = Math.sqrt(6 / fanIn);
  for (let i = 0; i < n; i++) {
    let v: number;
    if (leaf === 'running_mean' || leaf === 'bias') v = 0.2 * (2 * u[i] - 1);
    else if (leaf === 'running_var') v = 1 + u[i];
    else if (shape.length === 1) v = 0.5 + 0.5 * u[i];
    else v = bound * (2 * u[i] - 1);
    out[i] = v;
  }
  return out;
}

/** A state dict of rule values for every key of `shapes`. */
export function ruleStateDict(
  shapes: Map<string, { shape: readonly number[]; dtype: string }>,
): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [key, { shape, dtype }] of shapes) {
    out.set(key, tensor(ruleValues(key, shape), shape, { dtype: dtype === 'int32' ? 'int32' : 'float32' }));
  }
  return out;
}

export function ruleInput(n: number, size: number): Float32Array {
  const u = ruleUniform('input', n * 3 * size * size);
  return Float32Array.from(u, (v) => 2 * (2 * v - 1));
}

/** A disc of class 1 on each image, centred by the rule. */
export function ruleTarget(n: number, size: number): Int32Array {
  const u = ruleUniform('target', 2 * n);
  const out = new Int32Array(n * size * size);
  for (let b = 0; b < n; b++) {
    const cy = size * (0.25 + 0.5 * u[2 * b]);
    const cx = size * (0.25 + 0.5 * u[2 * b + 1]);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        out[(b * size + y) * size + x] = (y - cy) ** 2 + (x - cx) ** 2 < (size / 4) ** 2 ? 1 : 0;
      }
    }
  }
  return out;
}

/** Norm, sum and projections on rule vectors: how the fixtures summarise tensors too big to commit. */
export interface Summary {
  norm: number;
  sum: number;
  proj: number[];
  head: number[];
}

export function summarize(key: string, values: ArrayLike<number>, projections = 3): Summary {
  let sq = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sq += values[i] * values[i];
    sum += values[i];
  }
  const proj: number[] = [];
  for (let k = 0; k < projections; k++) {
    const r = ruleUniform(`${key}#${k}`, values.length);
    let dot = 0;
    for (let i = 0; i < values.length; i++) dot += values[i] * (2 * r[i] - 1);
    proj.push(dot);
  }
  return { norm: Math.sqrt(sq), sum, proj, head: Array.from(values).slice(0, 4) };
}
