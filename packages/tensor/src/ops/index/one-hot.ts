import { getEngine } from '../../engine/engine.js';
import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { numel } from '../../shape.js';
import { Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';

const WG = 256;

const kernel: Kernel = {
  name: 'one_hot',
  bindings: ['read', 'read_write'],
  code: `${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;
// words: 0 output elements, 1 classes, 2 index offset
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${WG}u);
  if (i >= ui(0u)) { return; }
  let classes = ui(1u);
  out[i] = select(0, 1, index[ui(2u) + i / classes] == i32(i % classes));
}`,
};

/**
 * `index` (int32, any shape) as one-hot int32 vectors along a new last dim of `numClasses`, like
 * `torch.nn.functional.one_hot`. An index outside [0, numClasses) gives a row of zeros.
 */
export function oneHot(index: Tensor, numClasses: number): Tensor {
  if (index.dtype !== 'int32')
    throw new TypeError(`oneHot: index ${index} must be int32, got ${index.dtype}`);
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new RangeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  const src = index.isContiguous() ? index : map([index], { name: 'copy', expr: 'a0', outDtype: 'int32' });
  const out = Tensor.empty([...index.shape, numClasses], 'int32');
  const n = numel(out.shape);
  const engine = getEngine();
  if (n > 0) {
    engine.dispatch(
      kernel,
      [src.storage.buffer, out.storage.buffer],
      [n, numClasses, src.offset],
      engine.grid(n, WG),
    );
  }
  if (src !== index) src.dispose();
  return out;
}
