import { contiguousStrides, numel } from '../../shape.js';
import type { CpuTensor } from '../../testing/cpu-tensor.js';

/** Splits a row-major shape at `dim` into (outer count, dim length, inner count). */
function around(shape: readonly number[], dim: number): [number, number, number] {
  return [numel(shape.slice(0, dim)), shape[dim], numel(shape.slice(dim + 1))];
}

/** `torch.cat` in float64. */
export function cpuCat(inputs: readonly CpuTensor[], dim: number): CpuTensor {
  const d = dim < 0 ? dim + inputs[0].shape.length : dim;
  const shape = [...inputs[0].shape];
  shape[d] = inputs.reduce((n, t) => n + t.shape[d], 0);
  const [outer, total, inner] = around(shape, d);
  const data = new Float64Array(numel(shape));
  let at = 0;
  for (const t of inputs) {
    const len = t.shape[d];
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < len * inner; k++) data[(o * total + at) * inner + k] = t.data[o * len * inner + k];
    }
    at += len;
  }
  return { data, shape };
}

/** `torch.stack` in float64: a cat of the inputs with a size-1 dim inserted. */
export function cpuStack(inputs: readonly CpuTensor[], dim: number): CpuTensor {
  const d = dim < 0 ? dim + inputs[0].shape.length + 1 : dim;
  const lifted = inputs.map((t) => {
    const shape = [...t.shape];
    shape.splice(d, 0, 1);
    return { data: t.data, shape };
  });
  return cpuCat(lifted, d);
}

/** Elements `start .. start+length-1` along `dim`, copied. */
export function cpuNarrow(x: CpuTensor, dim: number, start: number, length: number): CpuTensor {
  const d = dim < 0 ? dim + x.shape.length : dim;
  const [outer, total, inner] = around(x.shape, d);
  const shape = [...x.shape];
  shape[d] = length;
  const data = new Float64Array(numel(shape));
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < length * inner; k++)
      data[o * length * inner + k] = x.data[(o * total + start) * inner + k];
  }
  return { data, shape };
}

/** Swaps two dims, copied (to build references for transposed views). */
export function cpuTranspose(x: CpuTensor, a: number, b: number): CpuTensor {
  const shape = [...x.shape];
  [shape[a], shape[b]] = [shape[b], shape[a]];
  const inStrides = contiguousStrides(x.shape);
  const outStrides = contiguousStrides(shape);
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) {
    let rem = i;
    let src = 0;
    for (let k = 0; k < shape.length; k++) {
      const c = Math.floor(rem / outStrides[k]);
      rem -= c * outStrides[k];
      const from = k === a ? b : k === b ? a : k;
      src += c * inStrides[from];
    }
    data[i] = x.data[src];
  }
  return { data, shape };
}
