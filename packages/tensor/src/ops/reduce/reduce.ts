import { type DType, WGSL_TYPE } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import type { Kernel, UniformValue } from '../../engine/kernel.js';
import { numel, type Shape } from '../../shape.js';
import { Tensor } from '../../tensor.js';
import {
  type Accumulator,
  buildReduceKernel,
  type Monoid,
  REDUCE_WG,
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

const kernels = new Map<string, Kernel>();

function kernelFor(spec: ReduceKernelSpec): Kernel {
  const key = JSON.stringify(spec);
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = buildReduceKernel(spec);
    kernels.set(key, kernel);
  }
  return kernel;
}

/** Elements one workgroup split covers at least (32 per thread), so the closing tree stays a small part of the work. */
const ELEMENTS_PER_SPLIT = 8192;
/** Enough workgroups in flight to fill a large GPU. */
const TARGET_WORKGROUPS = 512;

/**
 * How to lay a reduction out: a thread per output for short reductions, or for long ones whose outputs are
 * adjacent in memory (then neighbouring threads read neighbouring addresses); otherwise workgroups, split
 * along the reduced extent until there are enough of them.
 */
function layoutFor(
  nOut: number,
  nRed: number,
  redInnerStride: number,
): { layout: 'thread' | 'group'; splits: number } {
  if (nRed <= 64 || (redInnerStride !== 1 && nOut >= 2048)) return { layout: 'thread', splits: 1 };
  const splits = Math.min(
    Math.ceil(nRed / ELEMENTS_PER_SPLIT),
    Math.ceil(TARGET_WORKGROUPS / nOut),
    REDUCE_WG,
  );
  return { layout: 'group', splits: Math.max(1, splits) };
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
  const nRed = numel(req.dims.map((d) => x.shape[d]));
  if (nOut === 0) return outputs;
  const p = plan(req.inputs, req.dims);
  const acc = req.acc ?? 'f32';
  const params = req.params ?? [];
  for (const t of params) {
    if (t.numel() !== nOut || !t.isContiguous() || t.dtype !== 'float32') {
      throw new RangeError(`${req.name}: parameter ${t} must be contiguous float32 with ${nOut} elements`);
    }
  }
  const engine = getEngine();
  const rank = { keptRank: p.keptShape.length, redRank: p.redShape.length };
  const header = (splits: number, chunk: number, n: number): UniformValue[] => [
    nOut,
    n,
    splits,
    chunk,
    { f: req.scale ?? 1 },
    outputs[0]?.offset ?? 0,
    outputs[1]?.offset ?? 0,
  ];
  const outSpecs = req.outputs.map((o) => ({ type: WGSL_TYPE[o.dtype], expr: o.expr }));
  const base = {
    monoid: req.monoid,
    acc,
    inputTypes: req.inputs.map((t) => WGSL_TYPE[t.dtype]),
    params: params.length,
    value: req.value ?? 'a0',
    outputs: outSpecs,
    ...rank,
  };
  const tensorUniforms: UniformValue[] = [...p.keptShape, ...p.redShape];
  req.inputs.forEach((t, k) => {
    tensorUniforms.push(t.offset, ...p.keptStrides[k], ...p.redStrides[k]);
  });
  for (const t of params) tensorUniforms.push(t.offset);
  const inputBuffers = [...req.inputs.map((t) => t.storage.buffer), ...params.map((t) => t.storage.buffer)];
  const outBuffers = outputs.map((t) => t.storage.buffer);

  const chosen = layoutFor(nOut, nRed, p.redStrides[0][p.redStrides[0].length - 1]);
  const layout = req.layout ?? chosen.layout;
  const splits = layout === 'group' && chosen.layout === 'group' ? chosen.splits : 1;
  if (splits === 1) {
    const kernel = kernelFor({ ...base, source: 'tensor', sink: 'final', layout });
    const grid =
      layout === 'thread' ? engine.grid(nOut, REDUCE_WG) : engine.grid(nOut * REDUCE_WG, REDUCE_WG);
    engine.dispatch(
      kernel,
      [...inputBuffers, ...outBuffers],
      [...header(1, nRed, nRed), ...tensorUniforms],
      grid,
    );
    return outputs;
  }
  const chunk = Math.ceil(nRed / splits);
  const words = stateWords(req.monoid);
  const scratch = Tensor.empty([nOut * splits * words], 'uint32');
  const first = kernelFor({ ...base, source: 'tensor', sink: 'partials', layout: 'group' });
  engine.dispatch(
    first,
    [...inputBuffers, scratch.storage.buffer],
    [...header(splits, chunk, nRed), ...tensorUniforms],
    engine.grid(nOut * splits * REDUCE_WG, REDUCE_WG),
  );
  const second = layoutFor(nOut, splits, 1);
  const secondKernel = kernelFor({
    ...base,
    inputTypes: [],
    params: 0,
    value: '',
    keptRank: 1,
    redRank: 1,
    source: 'partials',
    sink: 'final',
    layout: second.layout,
  });
  const grid =
    second.layout === 'thread' ? engine.grid(nOut, REDUCE_WG) : engine.grid(nOut * REDUCE_WG, REDUCE_WG);
  engine.dispatch(secondKernel, [scratch.storage.buffer, ...outBuffers], header(1, splits, splits), grid);
  scratch.dispose();
  return outputs;
}
