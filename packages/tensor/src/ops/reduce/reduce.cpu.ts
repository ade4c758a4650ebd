import { contiguousStrides, numel } from '../../shape.js';
import { type CpuTensor, cpuTensor } from '../../testing/cpu-tensor.js';

/**
 * Float64 reference for any reduction: `f` sees each output's elements in row-major order of the reduced dims
 * (so a position in that list is the flat index a max/argmax reports).
 */
export function cpuReduce(
  x: CpuTensor,
  dims: readonly number[],
  keepdim: boolean,
  f: (values: number[]) => number,
): CpuTensor {
  const rank = x.shape.length;
  const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const keptShape = kept.map((i) => x.shape[i]);
  const redShape = dims.map((i) => x.shape[i]);
  const strides = contiguousStrides(x.shape);
  const out = new Float64Array(numel(keptShape));
  const coords = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let rem = o;
    for (let k = kept.length - 1; k >= 0; k--) {
      coords[kept[k]] = rem % keptShape[k];
      rem = Math.floor(rem / keptShape[k]);
    }
    const values: number[] = [];
    for (let r = 0; r < numel(redShape); r++) {
      let rr = r;
      for (let k = dims.length - 1; k >= 0; k--) {
        coords[dims[k]] = rr % redShape[k];
        rr = Math.floor(rr / redShape[k]);
      }
      let at = 0;
      for (let d = 0; d < rank; d++) at += coords[d] * strides[d];
      values.push(x.data[at]);
    }
    out[o] = f(values);
  }
  const shape = keepdim ? x.shape.map((d, i) => (dims.includes(i) ? 1 : d)) : keptShape;
  return cpuTensor(out, shape);
}

export const cpuSum = (v: number[]) => v.reduce((a, b) => a + b, 0);
export const cpuMean = (v: number[]) => cpuSum(v) / v.length;

/** Two-pass variance in float64 with `correction` (1 = unbiased). */
export function cpuVar(v: number[], correction: number): number {
  const m = cpuMean(v);
  return v.reduce((a, b) => a + (b - m) * (b - m), 0) / (v.length - correction);
}

/** Index of the first maximum (or minimum, with `sign` −1). */
export function cpuArgExtreme(v: number[], sign: 1 | -1): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (sign * v[i] > sign * v[best]) best = i;
  return best;
}
