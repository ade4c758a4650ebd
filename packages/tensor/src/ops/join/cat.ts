import { formatShape, normalizeDim } from '../../shape.js';
import { recordOp, Tensor } from '../../tensor.js';
import { copyInto } from './copy.js';

function checkSameKind(op: string, tensors: readonly Tensor[]): void {
  if (tensors.length === 0) throw new RangeError(`${op}: needs at least one tensor`);
  const first = tensors[0];
  for (const t of tensors) {
    t.assertAlive();
    if (t.dtype !== first.dtype) {
      throw new TypeError(`${op}: ${t} is ${t.dtype} but ${first} is ${first.dtype}; cast them to one dtype`);
    }
    if (t.ndim !== first.ndim) {
      throw new RangeError(`${op}: ${t} has rank ${t.ndim} but ${first} has rank ${first.ndim}`);
    }
  }
}

/**
 * Joins tensors along an existing dim, like `torch.cat`. Each input is copied by one kernel straight into its
 * window of the output; the gradient of each input is the matching window (a view) of the output's gradient.
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  checkSameKind('cat', tensors);
  const first = tensors[0];
  const d = normalizeDim(dim, first.ndim, 'cat');
  for (const t of tensors) {
    if (t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new RangeError(
        `cat along dim ${dim}: ${t} of shape ${formatShape(t.shape)} does not match ${first} of shape ` +
          `${formatShape(first.shape)} outside dim ${dim}`,
      );
    }
  }
  const shape = [...first.shape];
  shape[d] = tensors.reduce((n, t) => n + t.shape[d], 0);
  const out = Tensor.empty(shape, first.dtype);
  const starts: number[] = [];
  let at = 0;
  for (const t of tensors) {
    starts.push(at);
    if (t.numel() > 0) {
      const window = out.asView(t.shape, out.strides, out.offset + at * out.strides[d]);
      copyInto(t, window);
      window.dispose();
    }
    at += t.shape[d];
  }
  const shapes = tensors.map((t) => t.shape);
  return recordOp('cat', out, tensors, (g, _saved, needs) =>
    shapes.map((s, i) => (needs[i] ? g.asView(s, g.strides, g.offset + starts[i] * g.strides[d]) : null)),
  );
}

/** Joins equally shaped tensors along a new dim, like `torch.stack`. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  checkSameKind('stack', tensors);
  const first = tensors[0];
  const d = dim < 0 ? dim + first.ndim + 1 : dim;
  if (!Number.isInteger(d) || d < 0 || d > first.ndim) {
    throw new RangeError(`stack: dim ${dim} is out of range for tensors of rank ${first.ndim}`);
  }
  for (const t of tensors) {
    if (t.shape.some((s, i) => s !== first.shape[i])) {
      throw new RangeError(
        `stack: ${t} of shape ${formatShape(t.shape)} differs from ${first} of shape ${formatShape(first.shape)}`,
      );
    }
  }
  const shape = [...first.shape];
  shape.splice(d, 0, tensors.length);
  const out = Tensor.empty(shape, first.dtype);
  const without = (strides: readonly number[]) => strides.filter((_, i) => i !== d);
  tensors.forEach((t, i) => {
    if (t.numel() === 0) return;
    const window = out.asView(t.shape, without(out.strides), out.offset + i * out.strides[d]);
    copyInto(t, window);
    window.dispose();
  });
  const inner = first.shape;
  return recordOp('stack', out, tensors, (g, _saved, needs) =>
    tensors.map((_, i) =>
      needs[i] ? g.asView(inner, without(g.strides), g.offset + i * g.strides[d]) : null,
    ),
  );
}
