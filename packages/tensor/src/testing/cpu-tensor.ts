import { contiguousStrides, numel, type Shape } from '../shape.js';

/** A float64 array with a shape: the plain TypeScript side of every CPU-reference test. */
export interface CpuTensor {
  data: Float64Array;
  shape: number[];
}

export function cpuTensor(data: ArrayLike<number>, shape: Shape): CpuTensor {
  if (data.length !== numel(shape))
    throw new RangeError(`cpuTensor: ${data.length} values for shape [${shape}]`);
  return { data: Float64Array.from(data), shape: [...shape] };
}

/** A small seeded generator (mulberry32) so tests are reproducible. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [lo, hi), rounded to float32 so the GPU sees exactly the same inputs. */
export function randomCpu(shape: Shape, seed: number, lo = -1, hi = 1): CpuTensor {
  const r = rng(seed);
  const data = new Float64Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(lo + (hi - lo) * r());
  return { data, shape: [...shape] };
}

/** Index of element `coords` in a contiguous tensor. */
export function flatIndex(shape: Shape, coords: readonly number[]): number {
  const strides = contiguousStrides(shape);
  let i = 0;
  for (let d = 0; d < shape.length; d++) i += coords[d] * strides[d];
  return i;
}

/** Applies `f` elementwise with NumPy broadcasting. */
export function cpuBroadcast(inputs: readonly CpuTensor[], f: (...v: number[]) => number): CpuTensor {
  const rank = Math.max(...inputs.map((t) => t.shape.length));
  const shape = new Array<number>(rank).fill(1);
  for (const t of inputs) {
    t.shape.forEach((d, i) => {
      const j = rank - t.shape.length + i;
      if (d !== 1) shape[j] = d;
    });
  }
  const n = numel(shape);
  const out = new Float64Array(n);
  const outStrides = contiguousStrides(shape);
  const inStrides = inputs.map((t) => {
    const s = contiguousStrides(t.shape);
    return shape.map((_, j) => {
      const i = j - (rank - t.shape.length);
      return i < 0 || t.shape[i] === 1 ? 0 : s[i];
    });
  });
  const values = new Array<number>(inputs.length);
  for (let o = 0; o < n; o++) {
    for (let k = 0; k < inputs.length; k++) {
      let rem = o;
      let at = 0;
      for (let d = 0; d < rank; d++) {
        const c = Math.floor(rem / outStrides[d]);
        rem -= c * outStrides[d];
        at += c * inStrides[k][d];
      }
      values[k] = inputs[k].data[at];
    }
    out[o] = f(...values);
  }
  return { data: out, shape };
}
