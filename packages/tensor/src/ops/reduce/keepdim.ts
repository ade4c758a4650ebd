import type { Shape } from '../../shape.js';
import type { Tensor } from '../../tensor.js';

/** The shape of a reduction's result with the reduced dims kept as size 1. */
export function keptShape(shape: Shape, dims: readonly number[]): number[] {
  return shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

/**
 * A reduction's result (shaped as the kept dims) as the caller asked for it: itself, or a view with the
 * reduced dims back as size 1. Takes ownership of `reduced`.
 */
export function applyKeepdim(
  reduced: Tensor,
  shape: Shape,
  dims: readonly number[],
  keepdim: boolean,
): Tensor {
  if (!keepdim || dims.length === 0) return reduced;
  const strides: number[] = [];
  let k = 0;
  for (let i = 0; i < shape.length; i++) strides.push(dims.includes(i) ? 0 : reduced.strides[k++]);
  const out = reduced.asView(keptShape(shape, dims), strides, reduced.offset);
  reduced.dispose();
  return out;
}

/**
 * A view of `g`, the gradient of a reduction's output (with or without keepdim), broadcast over the input's
 * `shape`: every reduced position reads the same element. Works for any strides of `g`.
 */
export function broadcastBack(g: Tensor, shape: Shape, dims: readonly number[]): Tensor {
  const keepdim = g.ndim === shape.length && dims.length > 0;
  const strides: number[] = [];
  let k = 0;
  for (let i = 0; i < shape.length; i++) {
    if (dims.includes(i)) {
      strides.push(0);
      if (keepdim) k++;
    } else {
      strides.push(g.strides[k++]);
    }
  }
  return g.asView(shape, strides, g.offset);
}
