import { contiguousStrides, numel } from '../../shape.js';
import type { CpuTensor } from '../../testing/cpu-tensor.js';

/** Float64 reference of `torch.gather`. */
export function cpuGather(x: CpuTensor, dim: number, index: CpuTensor): CpuTensor {
  const xs = contiguousStrides(x.shape);
  const out = new Float64Array(numel(index.shape));
  const rank = index.shape.length;
  for (let i = 0; i < out.length; i++) {
    let rem = i;
    let at = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const c = rem % index.shape[d];
      rem = Math.floor(rem / index.shape[d]);
      at += (d === dim ? index.data[i] : c) * xs[d];
    }
    out[i] = x.data[at];
  }
  return { data: out, shape: [...index.shape] };
}
