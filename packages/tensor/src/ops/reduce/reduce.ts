import { BYTES_PER_ELEMENT, type DType, WGSL_TYPE } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import { type Kernel, kernelCache, type UniformValue } from '../../engine/kernel.js';
import { numel, type Shape } from '../../shape.js';
import { Tensor } from '../../tensor.js';
import { bindElements, bindingBudget, fitsWhole, viewSpan } from '../elementwise/binding-range.js';
import {
  type Accumulator,
  buildReduceKernel,
  MAX_SPLITS,
  type Monoid,
  type ReduceKernelSpec,
  stateWords,
} from './reduce-kernel.js';

export interface ReduceRequest {
  name: string;
  monoid: Monoid;
  /** Accumulator type (default f32). */
  acc?: Accumulator;
  /** Tensors of one shape, each with its own strides; the kernel reads them as a0, a1, ... */
  inputs: readonly Tensor[];
  /** Sorted, non-negative dims to reduce. */
  dims: readonly number[];
  /** Value folded per element (default `a0`); may read per-output parameters p0, p1, ... */
  value?: string;
  /** Contiguous per-output f32 tensors with as many elements as there are outputs. */
  params?: readonly Tensor[];
  /** What to write from the final state `s`; `uf(4u)` is `scale`. */
  outputs: readonly { dtype: DType; expr: string }[];
  scale?: number;
  /** Overrides the layout choice (benchmarks and tests compare the two). */
  layout?: 'thread' | 'group';
}

/** A reduction's index space after dropping size-1 dims and merging dims that are contiguous in every input. */
interface Plan {
  keptShape: number[];
  redShape: number[];
  /** Per input: kept strides, reduced strides. */
  keptStrides: number[][];
  redStrides: number[][];
}

function mergeDims(dims: readonly number[], shape: Shape, strides: readonly (readonly number[])[]) {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (const d of dims) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d]);
    if (mergeable) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => {
        outStrides[k][last] = s[d];
      });
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => {
        outStrides[k].push(s[d]);
      });
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (const s of outStrides) s.push(0);
  }
  return { shape: outShape, strides: outStrides };
}

function plan(inputs: readonly Tensor[], dims: readonly number[]): Plan {
  const shape = inputs[0].shape;
  const all = shape.map((_, i) => i);
  const strides = inputs.map((t) => t.strides);
  const kept = mergeDims(
    all.filter((i) => !dims.includes(i)),
    shape,
    strides,
  );
  const red = mergeDims(dims, shape, strides);
  return { keptShape: kept.shape, redShape: red.shape, keptStrides: kept.strides, redStrides: red.strides };
}

const cached = kernelCache();

function kernelFor(spec: ReduceKernelSpec): Kernel {
  return cached(JSON.stringify(spec), () => buildReduceKernel(spec));
}

/**
 * Elements one workgroup split covers at least (32 per thread of 256), so the closing tree stays a small part of
 * the work.
 */
const ELEMENTS_PER_SPLIT = 8192;
/**
 * Enough workgroups in flight to fill a large GPU. A CPU adapter (lavapipe, SwiftShader) runs a few workgroups
 * at a time, one per core, so there splitting further only adds trees and a second pass.
 */
function targetWorkgroups(): number {
  return getEngine().gpu.info.isSoftware ? 16 : 512;
}

/**
 * Threads per workgroup: 256 on GPUs. A CPU adapter runs a workgroup as SIMD batches on one core and switches
 * between all of them at every barrier of the closing tree, so there the fewest threads win: the batch norm
 * statistics of a UNet-B0 training step at 2×128² on llvmpipe (58 welford reductions, 1 to 4 × 8192 elements per
 * channel) took 430 ms with 256 threads, 112 with 64, 44 with 16 and 23 with 8, one 256-bit SIMD batch.
 */
function workgroupSize(): number {
  return getEngine().gpu.info.isSoftware ? 8 : 256;
}

/**
 * How to lay a reduction out: a thread per output for short reductions, or for long ones whose outputs are
 * adjacent in memory (then neighbouring threads read neighbouring addresses); otherwise workgroups, split
 * along the reduced extent until there are enough of them.
 */
function layoutFor(
  nOut: number,
  nRed: number,
  redInnerStride: number,
  quads = false,
): { layout: 'thread' | 'group'; splits: number } {
  if (nRed <= 64 || (redInnerStride !== 1 && nOut >= 2048)) return { layout: 'thread', splits: 1 };
  // A split's threads should each have several reads to do: a quad holds 4 elements.
  const splits = Math.min(
    Math.ceil(nRed / (quads ? 4 * ELEMENTS_PER_SPLIT : ELEMENTS_PER_SPLIT)),
    Math.ceil(targetWorkgroups() / nOut),
    MAX_SPLITS,
  );
  return { layout: 'group', splits: Math.max(1, splits) };
}

/** An input as a dispatch binds it: the whole buffer, or a window of it (then `offset` is window-relative). */
interface Bound {
  view: Tensor;
  binding: GPUBuffer | GPUBufferBinding;
  offset: number;
}

/** Where pass 1 of a split reduction writes: a scratch of packed states, `slotStride` slots per output. */
interface Slots {
  scratch: Tensor;
  slotStride: number;
  slotBase: number;
  indexBase: number;
  /** Splits per output of this pass, fixed by the caller so every slab fills the same number of slots. */
  splits: number;
  layout: 'thread' | 'group';
}

interface Context {
  req: ReduceRequest;
  acc: Accumulator;
}

/**
 * Whether every input can be read as aligned vec4s along the innermost reduced dim: unit stride there, a size
 * that is a multiple of 4, and every other stride and the (binding-relative) offset multiples of 4, so that each
 * quad of 4 adjacent elements starts on a vec4.
 */
function quadReadable(inputs: readonly Bound[], p: Plan): boolean {
  const last = p.redShape.length - 1;
  if (p.redShape[last] % 4 !== 0) return false;
  return inputs.every((b, k) => {
    const red = p.redStrides[k];
    const others = [...p.keptStrides[k], ...red.slice(0, last)];
    return red[last] === 1 && b.offset % 4 === 0 && others.every((s) => s % 4 === 0);
  });
}

/** The plan with its innermost reduced dim counted in quads (a quad steps 4 elements). */
function inQuads(p: Plan): Plan {
  const last = p.redShape.length - 1;
  return {
    ...p,
    redShape: p.redShape.map((n, i) => (i === last ? n / 4 : n)),
    redStrides: p.redStrides.map((r) => r.map((s, i) => (i === last ? 4 : s))),
  };
}

function whole(t: Tensor): Bound {
  return { view: t, binding: t.storage.buffer, offset: t.offset };
}

function windowed(t: Tensor): Bound {
  const [first, last] = viewSpan(t.shape, t.strides, t.offset);
  const w = bindElements(getEngine(), t.storage.buffer, BYTES_PER_ELEMENT[t.dtype], first, last);
  return { view: t, binding: w.binding, offset: t.offset - w.base };
}

function header(
  nOut: number,
  nRed: number,
  splits: number,
  chunk: number,
  scale: number,
  outputs: readonly Tensor[],
  slots?: Slots,
): UniformValue[] {
  return [
    nOut,
    nRed,
    splits,
    chunk,
    { f: scale },
    outputs[0]?.offset ?? 0,
    outputs[1]?.offset ?? 0,
    slots?.slotStride ?? splits,
    slots?.slotBase ?? 0,
    slots?.indexBase ?? 0,
  ];
}

function baseSpec(
  ctx: Context,
  inputs: readonly Bound[],
  params: number,
  rank: { keptRank: number; redRank: number },
) {
  return {
    monoid: ctx.req.monoid,
    acc: ctx.acc,
    inputTypes: inputs.map((b) => WGSL_TYPE[b.view.dtype]),
    params,
    value: ctx.req.value ?? 'a0',
    outputs: ctx.req.outputs.map((o) => ({ type: WGSL_TYPE[o.dtype], expr: o.expr })),
    wg: workgroupSize(),
    ...rank,
  };
}

/**
 * A reduction over bound inputs into `outputs` (one pass, or a split pass 1 and a combining pass 2), or with
 * `slots`, only a pass 1 that fills the caller's slots.
 */
function pass(
  ctx: Context,
  inputs: readonly Bound[],
  params: readonly Tensor[],
  outputs: readonly Tensor[],
  nOut: number,
  slots?: Slots,
): void {
  const { req } = ctx;
  const engine = getEngine();
  const views = inputs.map((b) => b.view);
  const elements = plan(views, req.dims);
  const nElements = numel(req.dims.map((d) => views[0].shape[d]));
  // Inputs read as vec4s count the reduced extent in quads of 4 elements (see ReduceKernelSpec.quads).
  const quads = quadReadable(inputs, elements);
  const p = quads ? inQuads(elements) : elements;
  const nRed = quads ? nElements / 4 : nElements;
  const rank = { keptRank: p.keptShape.length, redRank: p.redShape.length };
  const tensorUniforms: UniformValue[] = [...p.keptShape, ...p.redShape];
  inputs.forEach((b, k) => {
    tensorUniforms.push(b.offset, ...p.keptStrides[k], ...p.redStrides[k]);
  });
  for (const t of params) tensorUniforms.push(t.offset);
  const buffers = [...inputs.map((b) => b.binding), ...params.map((t) => t.storage.buffer)];
  const spec = { ...baseSpec(ctx, inputs, params.length, rank), quads };
  const scale = req.scale ?? 1;
  const wg = workgroupSize();
  const groupGrid = (n: number) => engine.grid(n * wg, wg);

  if (slots) {
    const chunk = Math.ceil(nRed / slots.splits);
    const kernel = kernelFor({ ...spec, source: 'tensor', sink: 'partials', layout: slots.layout });
    engine.dispatch(
      kernel,
      [...buffers, slots.scratch.storage.buffer],
      [...header(nOut, nRed, slots.splits, chunk, scale, outputs, slots), ...tensorUniforms],
      slots.layout === 'thread' ? engine.grid(nOut, wg) : groupGrid(nOut * slots.splits),
    );
    return;
  }
  const innerStride = elements.redStrides[0][elements.redStrides[0].length - 1];
  const chosen = layoutFor(nOut, nElements, innerStride, quads);
  const layout = req.layout ?? chosen.layout;
  const splits = layout === 'group' && chosen.layout === 'group' ? chosen.splits : 1;
  if (splits === 1) {
    const kernel = kernelFor({ ...spec, source: 'tensor', sink: 'final', layout });
    engine.dispatch(
      kernel,
      [...buffers, ...outputs.map((t) => t.storage.buffer)],
      [...header(nOut, nRed, 1, nRed, scale, outputs), ...tensorUniforms],
      layout === 'thread' ? engine.grid(nOut, wg) : groupGrid(nOut),
    );
    return;
  }
  const scratch = Tensor.empty([nOut * splits * stateWords(req.monoid)], 'uint32');
  pass(ctx, inputs, params, outputs, nOut, {
    scratch,
    slotStride: splits,
    slotBase: 0,
    indexBase: 0,
    splits,
    layout: 'group',
  });
  combineSlots(ctx, scratch, splits, outputs, nOut, rank);
  scratch.dispose();
}

/** Pass 2: folds each output's `slots` packed states into the outputs. */
function combineSlots(
  ctx: Context,
  scratch: Tensor,
  slots: number,
  outputs: readonly Tensor[],
  nOut: number,
  rank: { keptRank: number; redRank: number },
): void {
  const engine = getEngine();
  const wg = workgroupSize();
  const { layout } = layoutFor(nOut, slots, 1);
  const kernel = kernelFor({
    ...baseSpec(ctx, [], 0, rank),
    keptRank: 1,
    redRank: 1,
    value: '',
    source: 'partials',
    sink: 'final',
    layout,
  });
  engine.dispatch(
    kernel,
    [scratch.storage.buffer, ...outputs.map((t) => t.storage.buffer)],
    header(nOut, slots, 1, slots, ctx.req.scale ?? 1, outputs),
    layout === 'thread' ? engine.grid(nOut, wg) : engine.grid(nOut * wg, wg),
  );
}

/**
 * Inputs too large for one storage binding are cut into pieces, each bound as a window of its buffer: every
 * combination of indices of the leading dims, times slabs along the first dim whose single index fits a binding.
 * The kept dims among those are a prefix of the output's dims, so a piece writes a contiguous range of outputs;
 * when a piece covers only part of the reduced extent, it fills its own slots of partial states instead, and one
 * more pass combines them.
 */
function reduceInSlabs(
  ctx: Context,
  inputs: readonly Tensor[],
  params: readonly Tensor[],
  outputs: readonly Tensor[],
  nOut: number,
): void {
  const { req } = ctx;
  const engine = getEngine();
  const shape = inputs[0].shape;
  const rank = shape.length;
  const budget = bindingBudget(engine);
  const align = engine.device.limits.minStorageBufferOffsetAlignment;
  // How many indices along d fit one binding when the dims before d are fixed.
  const room = (d: number) => {
    let len = shape[d];
    for (const t of inputs) {
      const bpe = BYTES_PER_ELEMENT[t.dtype];
      let inner = 0;
      for (let i = d + 1; i < rank; i++) inner += (shape[i] - 1) * Math.abs(t.strides[i]);
      const step = Math.abs(t.strides[d]);
      if (step === 0) continue;
      len = Math.min(len, Math.floor((budget - align - 4 - (inner + 1) * bpe) / (step * bpe)) + 1);
    }
    return len;
  };
  let d = 0;
  while (d < rank && room(d) < 1) d++;
  if (d === rank)
    throw new RangeError(`${req.name}: ${inputs[0]} cannot be bound in pieces of ${budget} bytes`);
  const len = room(d);
  const slabs = Math.ceil(shape[d] / len);
  const leading = shape.slice(0, d);
  const isReduced = (i: number) => req.dims.includes(i);
  const nRed = numel(req.dims.map((i) => shape[i]));
  const keptLead = numel(leading.filter((_, i) => !isReduced(i)));
  const redLead = numel(leading.filter((_, i) => isReduced(i)));
  const reducedPieces = redLead * (isReduced(d) ? slabs : 1);
  const outPerPrefix = nOut / keptLead;
  const redPerPrefix = nRed / redLead;

  const piece = (t: Tensor, coords: number[], start: number, n: number) => {
    const s = shape.map((v, i) => (i < d ? 1 : i === d ? n : v));
    let offset = t.offset + start * t.strides[d];
    coords.forEach((c, i) => {
      offset += c * t.strides[i];
    });
    return t.asView(s, t.strides, offset);
  };
  let slots: Slots | null = null;
  if (reducedPieces > 1) {
    const sample = piece(
      inputs[0],
      leading.map(() => 0),
      0,
      len,
    );
    const p = plan([sample], req.dims);
    const pieceOut = isReduced(d) ? outPerPrefix : (outPerPrefix / shape[d]) * len;
    const { layout, splits } = layoutFor(
      pieceOut,
      numel(req.dims.map((i) => sample.shape[i])),
      p.redStrides[0][p.redStrides[0].length - 1],
    );
    sample.dispose();
    const slotStride = reducedPieces * splits;
    const scratch = Tensor.empty([nOut * slotStride * stateWords(req.monoid)], 'uint32');
    slots = { scratch, slotStride, slotBase: 0, indexBase: 0, splits, layout };
  }
  const coords = leading.map(() => 0);
  const prefixes = numel(leading);
  for (let q = 0; q < prefixes; q++) {
    // Row-major flat indices of the fixed kept and reduced leading coordinates.
    let keptFlat = 0;
    let redFlat = 0;
    coords.forEach((c, i) => {
      if (isReduced(i)) redFlat = redFlat * shape[i] + c;
      else keptFlat = keptFlat * shape[i] + c;
    });
    for (let k = 0; k < slabs; k++) {
      const start = k * len;
      const n = Math.min(len, shape[d] - start);
      const views = inputs.map((t) => piece(t, coords, start, n));
      const outBase = keptFlat * outPerPrefix + (isReduced(d) ? 0 : start * (outPerPrefix / shape[d]));
      const pieceOut = isReduced(d) ? outPerPrefix : n * (outPerPrefix / shape[d]);
      const range = (t: Tensor) => t.asView([pieceOut], [1], t.offset + outBase);
      const subOutputs = outputs.map(range);
      const subParams = params.map(range);
      const bound = views.map(windowed);
      if (slots) {
        const redPiece = redFlat * (isReduced(d) ? slabs : 1) + (isReduced(d) ? k : 0);
        pass(ctx, bound, subParams, subOutputs, pieceOut, {
          ...slots,
          slotBase: outBase * slots.slotStride + redPiece * slots.splits,
          indexBase: redFlat * redPerPrefix + (isReduced(d) ? start * (redPerPrefix / shape[d]) : 0),
        });
      } else {
        pass(ctx, bound, subParams, subOutputs, pieceOut);
      }
      for (const t of [...views, ...subOutputs, ...subParams]) t.dispose();
    }
    for (let i = d - 1; i >= 0; i--) {
      if (++coords[i] < shape[i]) break;
      coords[i] = 0;
    }
  }
  if (slots) {
    combineSlots(ctx, slots.scratch, slots.slotStride, outputs, nOut, { keptRank: 1, redRank: 1 });
    slots.scratch.dispose();
  }
}

/**
 * Runs a reduction and returns its outputs, shaped as the kept dims (keepdim = false). Not recorded by autograd:
 * the public ops wrap it.
 */
export function reduce(req: ReduceRequest): Tensor[] {
  const x = req.inputs[0];
  for (const t of req.inputs) {
    if (t.shape.length !== x.shape.length || t.shape.some((d, i) => d !== x.shape[i])) {
      throw new RangeError(`${req.name}: inputs ${x} and ${t} differ in shape`);
    }
  }
  const outShape = x.shape.filter((_, i) => !req.dims.includes(i));
  const outputs = req.outputs.map((o) => Tensor.empty(outShape, o.dtype));
  const nOut = numel(outShape);
  if (nOut === 0) return outputs;
  const params = req.params ?? [];
  for (const t of params) {
    if (t.numel() !== nOut || !t.isContiguous() || t.dtype !== 'float32') {
      throw new RangeError(`${req.name}: parameter ${t} must be contiguous float32 with ${nOut} elements`);
    }
  }
  const ctx: Context = { req, acc: req.acc ?? 'f32' };
  const engine = getEngine();
  if (req.inputs.every((t) => fitsWhole(engine, t.storage.buffer))) {
    pass(ctx, req.inputs.map(whole), params, outputs, nOut);
  } else {
    reduceInSlabs(ctx, req.inputs, params, outputs, nOut);
  }
  return outputs;
}
