import { formatShape, normalizeDim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { narrow, reshape } from '../views.js';

/**
 * Cuts a tensor along `dim` into views, like `torch.split`: pieces of `size` (the last may be shorter), or of
 * the listed sizes, which must add up to the dim's length.
 */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const d = normalizeDim(dim, x.ndim, x.toString());
  const length = x.shape[d];
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    const size = sizeOrSections;
    if (!Number.isInteger(size) || size <= 0) {
      throw new RangeError(`split of ${x}: piece size must be a positive integer, got ${size}`);
    }
    sizes = [];
    for (let at = 0; at < length; at += size) sizes.push(Math.min(size, length - at));
    if (length === 0) sizes.push(0);
  } else {
    sizes = [...sizeOrSections];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || total !== length) {
      throw new RangeError(
        `split of ${x} (shape ${formatShape(x.shape)}) along dim ${dim}: sections [${sizes}] must be ` +
          `non-negative integers adding up to ${length}`,
      );
    }
  }
  const pieces: Tensor[] = [];
  let at = 0;
  for (const size of sizes) {
    pieces.push(narrow(x, d, at, size));
    at += size;
  }
  return pieces;
}

/** Cuts a tensor into `chunks` near-equal views along `dim` (fewer if it is short), like `torch.chunk`. */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) {
    throw new RangeError(`chunk of ${x}: chunks must be a positive integer, got ${chunks}`);
  }
  const d = normalizeDim(dim, x.ndim, x.toString());
  return split(x, Math.max(1, Math.ceil(x.shape[d] / chunks)), d);
}

/** Removes a dim, returning one view per index along it, like `torch.unbind`. */
export function unbind(x: Tensor, dim = 0): Tensor[] {
  const d = normalizeDim(dim, x.ndim, x.toString());
  return split(x, 1, d).map((piece) => {
    const shape = x.shape.filter((_, i) => i !== d);
    const view = reshape(piece, shape);
    piece.dispose();
    return view;
  });
}
