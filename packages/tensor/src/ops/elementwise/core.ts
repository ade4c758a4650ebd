import { installCoreKernels, type Tensor } from '../../tensor.js';
import { full } from '../creation.js';
import { map } from './map.js';

function storageLoad(t: Tensor): string {
  return t.dtype === 'float16' ? 'f16' : t.dtype === 'float32' ? 'f32' : t.dtype === 'int32' ? 'i32' : 'u32';
}

// The tensor class needs a few kernels (copying views, accumulating gradients, filling) without importing
// the op modules that import it.
installCoreKernels({
  contiguousCopy: (t) =>
    map([t], { name: 'copy', expr: 'a0', outDtype: t.dtype, loadTypes: [storageLoad(t)] }),
  addInto: (dst, src) => map([dst, src], { name: 'add_', expr: 'a0 + a1', outDtype: dst.dtype, out: dst }),
  fill: (shape, value, dtype) => full(shape, value, { dtype }),
});
