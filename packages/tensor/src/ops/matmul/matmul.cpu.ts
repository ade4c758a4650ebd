import { broadcastShapes, contiguousStrides, numel } from '../../shape.js';
import type { CpuTensor } from '../../testing/cpu-tensor.js';

/** `torch.matmul` in float64: vectors, matrices and broadcast batches of matrices. */
export function matmulCpu(a: CpuTensor, b: CpuTensor): CpuTensor {
  const aShape = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const [m, k] = aShape.slice(-2);
  const n = bShape[bShape.length - 1];
  if (bShape[bShape.length - 2] !== k) throw new RangeError(`matmulCpu: [${a.shape}] · [${b.shape}]`);
  const batch = broadcastShapes(aShape.slice(0, -2), bShape.slice(0, -2));
  const batches = numel(batch);
  const out = new Float64Array(batches * m * n);
  const offsetOf = (shape: readonly number[], index: number): number => {
    // Offset of batch `index` (over `batch`) in an operand whose batch dims are `shape` (broadcast).
    const own = shape.slice(0, -2);
    const strides = contiguousStrides(own);
    let rem = index;
    let at = 0;
    for (let d = batch.length - 1; d >= 0; d--) {
      const c = rem % batch[d];
      rem = Math.floor(rem / batch[d]);
      const od = d - (batch.length - own.length);
      if (od >= 0 && own[od] !== 1) at += c * strides[od];
    }
    return at * shape[shape.length - 2] * shape[shape.length - 1];
  };
  for (let bi = 0; bi < batches; bi++) {
    const ao = offsetOf(aShape, bi);
    const bo = offsetOf(bShape, bi);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[ao + i * k + p] * b.data[bo + p * n + j];
        out[(bi * m + i) * n + j] = s;
      }
    }
  }
  const shape = [...batch, ...(a.shape.length > 1 ? [m] : []), ...(b.shape.length > 1 ? [n] : [])];
  return { data: out, shape };
}

/** Columns start … start + len − 1 of a 2-D tensor: the reference of `narrow(x, 1, start, len)`. */
export function narrowColumnsCpu(x: CpuTensor, start: number, len: number): CpuTensor {
  const [r, c] = x.shape;
  const data = new Float64Array(r * len);
  for (let i = 0; i < r; i++) for (let j = 0; j < len; j++) data[i * len + j] = x.data[i * c + start + j];
  return { data, shape: [r, len] };
}

/** A contiguous transpose of a 2-D tensor. */
export function transposeCpu(a: CpuTensor): CpuTensor {
  const [r, c] = a.shape;
  const data = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = a.data[i * c + j];
  return { data, shape: [c, r] };
}

/** `torch.nn.functional.linear` in float64: x · weightᵀ + bias. */
export function linearCpu(x: CpuTensor, weight: CpuTensor, bias?: CpuTensor): CpuTensor {
  const y = matmulCpu(x, transposeCpu(weight));
  if (bias) {
    const n = bias.data.length;
    for (let i = 0; i < y.data.length; i++) y.data[i] += bias.data[i % n];
  }
  return y;
}
