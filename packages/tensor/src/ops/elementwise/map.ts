import { BYTES_PER_ELEMENT, type DType, WGSL_TYPE } from '../../dtype.js';
import type { UniformValue } from '../../engine/kernel.js';
import {
  broadcastShapes,
  broadcastStrides,
  isContiguous,
  numel,
  type Shape,
  shapesEqual,
} from '../../shape.js';
import { Tensor } from '../../tensor.js';
import { buildMapKernel, MAX_RANK, scalarBase } from './map-kernel.js';
import { launchMap, type MapView } from './map-launch.js';

export interface MapOptions {
  name: string;
  /** WGSL expression over a0..an-1; scalars are read with uf(S + k) / ui(S + k), where S is substituted. */
  expr: string;
  outDtype: DType;
  /** Type each operand is converted to before the expression (default: f32 for floats, else its storage type). */
  loadTypes?: readonly string[];
  /** Scalar arguments appended to the uniforms; the expression reads scalar k as `uf(S+k)`. */
  scalars?: readonly UniformValue[];
  helpers?: string;
  /** Write into this tensor (a view is fine) instead of a new one; its shape must equal the broadcast shape. */
  out?: Tensor;
}

const kernels = new Map<string, ReturnType<typeof buildMapKernel>>();

function defaultLoadType(dtype: DType): string {
  return dtype === 'float32' || dtype === 'float16' ? 'f32' : WGSL_TYPE[dtype];
}

/**
 * Runs an elementwise WGSL expression over broadcast operands and returns (or fills) the result.
 * This is the forward kernel of every elementwise op; autograd is recorded by the callers.
 */
export function map(inputs: readonly Tensor[], options: MapOptions): Tensor {
  let shape: number[] = [...inputs[0].shape];
  for (const t of inputs.slice(1)) shape = broadcastShapes(shape, t.shape, options.name);
  if (shape.length > MAX_RANK)
    throw new RangeError(`${options.name}: tensors of rank > ${MAX_RANK} are not supported`);
  const out = options.out ?? Tensor.empty(shape, options.outDtype);
  if (options.out && !shapesEqual(options.out.shape, shape)) {
    throw new RangeError(
      `${options.name}: out has shape [${options.out.shape}] but the result is [${shape}]`,
    );
  }
  const n = numel(shape);
  if (n === 0) return out;
  const inPlace = options.out !== undefined && inputs[0].storage.buffer === out.storage.buffer;
  // An operand other than the first that aliases the output must be read from a copy (a fresh buffer: WebGPU
  // rejects one buffer bound both read and read_write, even where the ranges are disjoint).
  const operands = inputs.map((t, k) =>
    k >= (inPlace ? 1 : 0) && t.storage.buffer === out.storage.buffer
      ? map([t], { name: 'copy', expr: 'a0', outDtype: t.dtype, loadTypes: [WGSL_TYPE[t.dtype]] })
      : t,
  );
  const contiguous =
    isContiguous(out.shape, out.strides) &&
    operands.every((t) => shapesEqual(t.shape, shape) && isContiguous(t.shape, t.strides));
  const quads = contiguous && n % 4 === 0 && [out, ...operands].every((t) => t.offset % 4 === 0);
  const inputTypes = operands.map((t) => WGSL_TYPE[t.dtype]);
  const loadTypes = options.loadTypes ?? operands.map((t) => defaultLoadType(t.dtype));
  const base = scalarBase(operands.length, contiguous);
  const expr = options.expr.replaceAll('S+', `${base}u+`).replaceAll('S +', `${base}u +`);
  const spec = {
    name: options.name,
    inputTypes,
    loadTypes,
    outType: WGSL_TYPE[out.dtype],
    expr,
    helpers: options.helpers,
    contiguous,
    quads,
    inPlace,
  };
  const key = JSON.stringify(spec);
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = buildMapKernel(spec);
    kernels.set(key, kernel);
  }
  const mapView = (t: Tensor): MapView => ({
    buffer: t.storage.buffer,
    bytesPerElement: BYTES_PER_ELEMENT[t.dtype],
    offset: t.offset,
    strides: broadcastStrides(t.shape, t.strides, shape),
    describe: () => t.toString(),
  });
  launchMap({
    name: options.name,
    kernel,
    contiguous,
    quads,
    inPlace,
    shape,
    out: mapView(out),
    operands: operands.map(mapView),
    scalars: options.scalars ?? [],
  });
  for (let k = 0; k < operands.length; k++) if (operands[k] !== inputs[k]) operands[k].dispose();
  return out;
}

export function resultShape(inputs: readonly Tensor[], name: string): Shape {
  let shape: number[] = [...inputs[0].shape];
  for (const t of inputs.slice(1)) shape = broadcastShapes(shape, t.shape, name);
  return shape;
}
