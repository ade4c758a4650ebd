import { contiguousStrides, numel } from '../../shape.js';
import type { CpuTensor } from '../../testing/cpu-tensor.js';

/** `F.pad(x, pads, value=value)` in float64; pads list (before, after) from the last dim backwards. */
export function cpuPad(x: CpuTensor, pads: readonly number[], value = 0): CpuTensor {
  const rank = x.shape.length;
  const before = new Array<number>(rank).fill(0);
  const after = new Array<number>(rank).fill(0);
  for (let k = 0; k < pads.length / 2; k++) {
    before[rank - 1 - k] = pads[2 * k];
    after[rank - 1 - k] = pads[2 * k + 1];
  }
  const shape = x.shape.map((s, d) => s + before[d] + after[d]);
  const outStrides = contiguousStrides(shape);
  const inStrides = contiguousStrides(x.shape);
  const data = new Float64Array(numel(shape));
  for (let i = 0; i < data.length; i++) {
    let rem = i;
    let src = 0;
    let inside = true;
    for (let d = 0; d < rank; d++) {
      const c = Math.floor(rem / outStrides[d]);
      rem -= c * outStrides[d];
      const ic = c - before[d];
      if (ic < 0 || ic >= x.shape[d]) inside = false;
      src += ic * inStrides[d];
    }
    data[i] = inside ? x.data[src] : value;
  }
  return { data, shape };
}
