import type { Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';

/** The storage type a copy moves unchanged (no float conversion for integers or halves). */
function storageType(t: Tensor): string {
  return t.dtype === 'float16' ? 'f16' : t.dtype === 'float32' ? 'f32' : t.dtype === 'int32' ? 'i32' : 'u32';
}

/**
 * Copies `src` into `dst`, a view of the same shape inside a larger output: one kernel launch, whatever
 * either's strides. Not recorded by autograd; the op that owns `dst` records its own rule.
 */
export function copyInto(src: Tensor, dst: Tensor): void {
  map([src], { name: 'copy', expr: 'a0', outDtype: dst.dtype, loadTypes: [storageType(src)], out: dst });
}
