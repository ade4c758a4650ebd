import { BYTES_PER_ELEMENT } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import type { Tensor } from '../../tensor.js';
import { bindElements, bindingBudget, boundBytes, viewSpan } from './binding-range.js';

/**
 * Work cut along one dim (the batch, or a kept dim of a row kernel) into slabs small enough that every tensor's
 * part of a slab fits one storage binding. Ops whose items are independent along that dim (pooling, upsampling,
 * the losses, softmax rows) bind each slab as a window of the buffer and address it from a window-relative offset.
 */
export interface SlabPlan {
  dim: number;
  size: number;
  /** Entries of `dim` per slab. */
  per: number;
  /** Every buffer fits a binding whole: one slab over whole buffers. */
  whole: boolean;
}

export interface SlabWindow {
  binding: GPUBuffer | GPUBufferBinding;
  /** Where the slab's first element sits in `binding`. */
  offset: number;
}

function slabSpan(t: Tensor, dim: number, first: number, count: number): [number, number] {
  const shape = t.shape.map((n, i) => (i === dim ? count : n));
  return viewSpan(shape, t.strides, t.offset + first * t.strides[dim]);
}

/**
 * The most entries of `dim` per slab such that each tensor's slab fits `limit` bytes once its window is aligned.
 * Each entry widens a tensor's span by at most |stride| elements, which bounds the slab from its first entry.
 * Throws, naming the op and the tensor, when one entry alone does not fit.
 */
export function planSlabs(
  op: string,
  tensors: readonly (readonly [Tensor, string])[],
  dim: number,
  unit: string,
  limit = bindingBudget(getEngine()),
): SlabPlan {
  const size = tensors[0][0].shape[dim];
  if (tensors.every(([t]) => t.storage.buffer.size <= limit)) return { dim, size, per: size, whole: true };
  const engine = getEngine();
  let per = size;
  for (const [t, what] of tensors) {
    const bytes = BYTES_PER_ELEMENT[t.dtype];
    const one = boundBytes(engine, bytes, ...slabSpan(t, dim, 0, 1));
    if (one > limit) {
      throw new RangeError(
        `${op}: one ${unit} of the ${what} ${t} spans ${one} bytes, over the maxStorageBufferBindingSize ` +
          `of ${limit} bytes`,
      );
    }
    const step = Math.abs(t.strides[dim]) * bytes;
    if (step > 0) per = Math.min(per, Math.floor((limit - one) / step) + 1);
  }
  return { dim, size, per: Math.max(1, per), whole: false };
}

/** Calls `run(first, count)` for each slab of the plan, in order. */
export function forEachSlab(plan: SlabPlan, run: (first: number, count: number) => void): void {
  for (let first = 0; first < plan.size; first += plan.per) run(first, Math.min(plan.per, plan.size - first));
}

/** The binding of `t` for entries first..first+count−1 of the plan's dim: the whole buffer, or its window. */
export function slabWindow(plan: SlabPlan, t: Tensor, first: number, count: number): SlabWindow {
  const offset = t.offset + first * t.strides[plan.dim];
  if (plan.whole) return { binding: t.storage.buffer, offset };
  const [lo, hi] = slabSpan(t, plan.dim, first, count);
  const window = bindElements(getEngine(), t.storage.buffer, BYTES_PER_ELEMENT[t.dtype], lo, hi);
  return { binding: window.binding, offset: offset - window.base };
}
