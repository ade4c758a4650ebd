import { BYTES_PER_ELEMENT, type DType, WGSL_TYPE } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL, type UniformValue } from '../../engine/kernel.js';
import { numel, type Shape } from '../../shape.js';
import { Tensor } from '../../tensor.js';
import { bindElements, bindingBudget, boundBytes } from '../elementwise/binding-range.js';
import { counterWords, type Generator } from './generator.js';
import { PHILOX_WGSL } from './philox.js';

/**
 * How a Philox block's four words `w` become four values `v` (vec4). Element e of the output is word e % 4 of
 * block `offset + e / 4`, so a sample depends only on (seed, offset, e), never on the dispatch layout.
 * Scalars are read with `uf(7u)`, `ui(8u)`, ...; `p(j)` reads the probability tensor at element `first + j`.
 */
export type RandomMode = 'bits' | 'uniform' | 'normal' | 'integer' | 'bernoulli' | 'bernoulliTensor';

const SCALARS = 7;

const VALUES: Record<RandomMode, string> = {
  bits: 'let v = w;',
  uniform: 'let v = vec4<f32>(unit(w.x), unit(w.y), unit(w.z), unit(w.w));',
  // Box–Muller on two pairs; the +1 keeps the log's argument in (0, 1].
  normal: `let r0 = sqrt(-2.0 * log(f32((w.x >> 8u) + 1u) * ${2 ** -24}));
  let r1 = sqrt(-2.0 * log(f32((w.z >> 8u) + 1u) * ${2 ** -24}));
  let t0 = ${2 * Math.PI} * unit(w.y);
  let t1 = ${2 * Math.PI} * unit(w.w);
  let v = vec4<f32>(r0 * cos(t0), r0 * sin(t0), r1 * cos(t1), r1 * sin(t1));`,
  // low + floor(w · range / 2^32): unbiased to within range / 2^32.
  integer: `let v = vec4<i32>(
    bitcast<i32>(ui(${SCALARS}u) + mulHi(w.x, ui(${SCALARS + 1}u))),
    bitcast<i32>(ui(${SCALARS}u) + mulHi(w.y, ui(${SCALARS + 1}u))),
    bitcast<i32>(ui(${SCALARS}u) + mulHi(w.z, ui(${SCALARS + 1}u))),
    bitcast<i32>(ui(${SCALARS}u) + mulHi(w.w, ui(${SCALARS + 1}u))));`,
  // value where unit < p, else 0 (dropout's mask carries its 1/(1-p) scale as the value).
  bernoulli: `let p = uf(${SCALARS}u);
  let one = uf(${SCALARS + 1}u);
  let v = vec4<f32>(select(0.0, one, unit(w.x) < p), select(0.0, one, unit(w.y) < p),
    select(0.0, one, unit(w.z) < p), select(0.0, one, unit(w.w) < p));`,
  bernoulliTensor: `let v = vec4<f32>(select(0.0, 1.0, unit(w.x) < prob(first)),
    select(0.0, 1.0, unit(w.y) < prob(first + 1u)), select(0.0, 1.0, unit(w.z) < prob(first + 2u)),
    select(0.0, 1.0, unit(w.w) < prob(first + 3u)));`,
};

const WG = 64;

function buildKernel(mode: RandomMode, outType: string, probType: string | null): Kernel {
  const f16 = outType === 'f16' || probType === 'f16' ? 'enable f16;\n' : '';
  const probs = probType
    ? `@group(0) @binding(1) var<storage, read> probs: array<${probType}>;
fn prob(e: u32) -> f32 { return f32(probs[ui(6u) + min(e, ui(0u) - 1u)]); }`
    : '';
  const writes = ['x', 'y', 'z', 'w']
    .map((c, j) => `  if (first + ${j}u < n) { out[ui(1u) + first + ${j}u] = ${outType}(v.${c}); }`)
    .join('\n');
  return {
    name: `random_${mode}`,
    bindings: probType ? ['read', 'read_write'] : ['read_write'],
    workgroupSize: WG,
    code: `${f16}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}${PHILOX_WGSL}
${probs}
@group(0) @binding(${probType ? 2 : 1}) var<storage, read_write> out: array<${outType}>;
fn unit(x: u32) -> f32 { return f32(x >> 8u) * ${2 ** -24}; }
// words: 0 n, 1 out offset, 2-3 first block (lo, hi), 4-5 key, 6 probs offset, ${SCALARS}.. mode scalars
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = linearIndex(gid, nwg, ${WG}u);
  let n = ui(0u);
  let first = t * 4u;
  if (first >= n) { return; }
  let lo = ui(2u) + t;
  let carry = select(0u, 1u, lo < t);
  let w = philox(vec4<u32>(lo, ui(3u) + carry, 0u, 0u), vec2<u32>(ui(4u), ui(5u)));
  ${VALUES[mode]}
${writes}
}`,
  };
}

const kernels = new Map<string, Kernel>();

export interface RandomFill {
  mode: RandomMode;
  shape: Shape;
  dtype: DType;
  generator: Generator;
  /** Mode scalars (uniform words from 7 on). */
  scalars?: readonly UniformValue[];
  /** Per-element probabilities for `bernoulliTensor`: contiguous, of `shape`. */
  probs?: Tensor;
}

/**
 * How many Philox blocks one dispatch writes when an output is too large to bind whole: whole blocks, so that
 * every dispatch starts on a block boundary, and as many as fit one binding of `bytesPerElement` elements.
 */
export function blocksPerDispatch(bytesPerElement: number): number {
  const engine = getEngine();
  const budget = bindingBudget(engine);
  const blocks = Math.floor((budget - boundBytes(engine, bytesPerElement, 0, -1)) / (4 * bytesPerElement));
  if (blocks < 1) throw new RangeError(`random: a binding budget of ${budget} bytes is too small`);
  return blocks;
}

/**
 * Fills a new contiguous tensor with Philox samples. Outputs larger than one storage binding may be are written
 * in several dispatches, each binding its window of the buffer; the samples are the same either way.
 */
export function randomFill(spec: RandomFill): Tensor {
  const engine = getEngine();
  const out = Tensor.empty(spec.shape, spec.dtype);
  const n = numel(spec.shape);
  const blocks = Math.ceil(n / 4);
  const firstBlock = spec.generator.take(blocks);
  if (n === 0) return out;
  const probs = spec.probs;
  const probType = probs ? WGSL_TYPE[probs.dtype] : null;
  const key = `${spec.mode}:${WGSL_TYPE[spec.dtype]}:${probType}`;
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = buildKernel(spec.mode, WGSL_TYPE[spec.dtype], probType);
    kernels.set(key, kernel);
  }
  const [key0, key1] = spec.generator.key();
  const bpe = Math.max(BYTES_PER_ELEMENT[spec.dtype], probs ? BYTES_PER_ELEMENT[probs.dtype] : 0);
  const perDispatch =
    boundBytes(engine, bpe, 0, n - 1) <= bindingBudget(engine) ? blocks : blocksPerDispatch(bpe);
  for (let b = 0; b < blocks; b += perDispatch) {
    const count = Math.min(perDispatch, blocks - b);
    const first = 4 * b;
    const last = Math.min(n, 4 * (b + count)) - 1;
    const outWindow = bindElements(engine, out.storage.buffer, BYTES_PER_ELEMENT[spec.dtype], first, last);
    const probWindow = probs
      ? bindElements(
          engine,
          probs.storage.buffer,
          BYTES_PER_ELEMENT[probs.dtype],
          probs.offset + first,
          probs.offset + last,
        )
      : null;
    const [lo, hi] = counterWords(firstBlock + b);
    const uniforms: UniformValue[] = [
      last - first + 1,
      first - outWindow.base,
      lo,
      hi,
      key0,
      key1,
      probWindow && probs ? probs.offset + first - probWindow.base : 0,
      ...(spec.scalars ?? []),
    ];
    const buffers = probWindow ? [probWindow.binding, outWindow.binding] : [outWindow.binding];
    engine.dispatch(kernel, buffers, uniforms, engine.grid(count, WG));
  }
  return out;
}
