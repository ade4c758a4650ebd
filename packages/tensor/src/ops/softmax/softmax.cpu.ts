import { contiguousStrides } from '../../shape.js';
import type { CpuTensor } from '../../testing/cpu-tensor.js';

/** Applies `f` to every row along `dim` (a fresh array of the row's values) and writes back what it returns. */
export function cpuRows(x: CpuTensor, dim: number, f: (row: number[]) => number[]): CpuTensor {
  const d = dim < 0 ? dim + x.shape.length : dim;
  const strides = contiguousStrides(x.shape);
  const len = x.shape[d];
  const stride = strides[d];
  const out = new Float64Array(x.data.length);
  for (let start = 0; start < x.data.length; start++) {
    // A row starts at every element whose coordinate along dim is 0.
    if (Math.floor(start / stride) % len !== 0) continue;
    const row = Array.from({ length: len }, (_, j) => x.data[start + j * stride]);
    f(row).forEach((v, j) => {
      out[start + j * stride] = v;
    });
  }
  return { data: out, shape: [...x.shape] };
}

export function cpuLogSumExp(row: number[]): number {
  const m = Math.max(...row);
  return m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
}

export const cpuSoftmax = (x: CpuTensor, dim: number) =>
  cpuRows(x, dim, (row) => {
    const lse = cpuLogSumExp(row);
    return row.map((v) => Math.exp(v - lse));
  });

export const cpuLogSoftmax = (x: CpuTensor, dim: number) =>
  cpuRows(x, dim, (row) => {
    const lse = cpuLogSumExp(row);
    return row.map((v) => v - lse);
  });
