import { getEngine } from '../../engine/engine.js';
import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { numel } from '../../shape.js';
import { Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import { forEachSlab, planSlabs, slabWindow } from '../elementwise/slabs.js';

const WG = 256;

const kernel: Kernel = {
  name: 'one_hot',
  bindings: ['read', 'read_write'],
  code: `${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;
// words: 0 output elements, 1 classes, 2 index offset, 3 output offset
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${WG}u);
  if (i >= ui(0u)) { return; }
  let classes = ui(1u);
  out[ui(3u) + i] = select(0, 1, index[ui(2u) + i / classes] == i32(i % classes));
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
  const engine = getEngine();
  // Flat views, cut into runs of whole index entries where the output is larger than one binding.
  const entries = numel(index.shape);
  const flatIndex = src.asView([entries], [1], src.offset);
  const flatOut = out.asView([entries, numClasses], [numClasses, 1], 0);
  const plan = planSlabs(
    'oneHot',
    [
      [flatOut, 'output'],
      [flatIndex, 'index'],
    ],
    0,
    'entry',
  );
  forEachSlab(plan, (first, count) => {
    const [vi, vo] = [flatIndex, flatOut].map((t) => slabWindow(plan, t, first, count));
    const n = count * numClasses;
    engine.dispatch(
      kernel,
      [vi.binding, vo.binding],
      [n, numClasses, vi.offset, vo.offset],
      engine.grid(n, WG),
    );
  });
  for (const t of [flatIndex, flatOut]) t.dispose();
  if (src !== index) src.dispose();
  return out;
}
