import { BYTES_PER_ELEMENT } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import { Tensor } from '../../tensor.js';
import { bindElements, bindingBudget, boundBytes, viewSpan } from '../elementwise/binding-range.js';
import { map } from '../elementwise/map.js';

/**
 * Matrix products whose operands are larger than one storage binding (128 MiB on many devices), cut into pieces
 * whose operands each fit a window of their buffer. Each cut halves the dim that spreads an oversized operand
 * the most over its buffer:
 *  - a batch dim, a row of A (M) or a column of B (N): the pieces write disjoint parts of the output;
 *  - the inner dim K (a transposed operand such as the Xᵀ of a weight gradient, whose every row spans the whole
 *    buffer): the first half writes the output and each further part is added to it.
 */

/** A view of a buffer as one kernel binds it: the window, and the view's offset within the window. */
export interface BoundView {
  binding: GPUBuffer | GPUBufferBinding;
  offset: number;
}

/** `out[..., M, N] = a[..., M, K] · b[..., K, N] (+ bias[N])` over bindings that fit the device. */
export type GemmLaunch = (
  a: Tensor,
  b: Tensor,
  out: Tensor,
  bias: Tensor | undefined,
  bind: (t: Tensor) => BoundView,
) => void;

/** Bytes the binding of a view's span takes once aligned. */
function spanBytes(t: Tensor): number {
  return boundBytes(getEngine(), BYTES_PER_ELEMENT[t.dtype], ...viewSpan(t.shape, t.strides, t.offset));
}

/** The whole buffer where it fits a binding, else the window the view touches. */
export function bindView(t: Tensor): BoundView {
  const engine = getEngine();
  if (t.storage.buffer.size <= bindingBudget(engine)) return { binding: t.storage.buffer, offset: t.offset };
  const [first, last] = viewSpan(t.shape, t.strides, t.offset);
  const window = bindElements(engine, t.storage.buffer, BYTES_PER_ELEMENT[t.dtype], first, last);
  return { binding: window.binding, offset: t.offset - window.base };
}

/** `count` entries of `dim` from `start`, as a view (no autograd: these are a kernel's operands). */
function part(t: Tensor, dim: number, start: number, count: number): Tensor {
  const shape = [...t.shape];
  shape[dim] = count;
  return t.asView(shape, t.strides, t.offset + start * t.strides[dim]);
}

/** The dim whose extent spreads `t` the most over its buffer (the one to halve), or -1 if none can be. */
function widestDim(t: Tensor): number {
  let best = -1;
  let reach = 0;
  t.shape.forEach((size, d) => {
    const r = Math.abs(t.strides[d]) * (size - 1);
    if (size > 1 && r > reach) {
      best = d;
      reach = r;
    }
  });
  return best;
}

type Operand = 'a' | 'b' | 'out';

/**
 * A cut of the product: which dim of each operand it narrows (an operand it leaves whole is absent). A batch cut
 * narrows the same dim of all three; M is a's and out's rows, N b's and out's columns (and the bias), K a's
 * columns and b's rows.
 */
type Cut = Partial<Record<Operand, number>>;

function cutAlong(t: Operand, d: number, rank: number): Cut {
  if (d < rank - 2) return { a: d, b: d, out: d };
  const row = d === rank - 2;
  if (t === 'a') return row ? { a: rank - 2, out: rank - 2 } : { a: rank - 1, b: rank - 2 };
  if (t === 'b') return row ? { a: rank - 1, b: rank - 2 } : { b: rank - 1, out: rank - 1 };
  return row ? { a: rank - 2, out: rank - 2 } : { b: rank - 1, out: rank - 1 };
}

/**
 * Runs `launch` over pieces of the product whose operands each fit one binding. The operands have equal rank
 * (batch dims first); `out` is written, never read, except where a K cut adds a later part to it.
 */
export function splitGemm(
  a: Tensor,
  b: Tensor,
  out: Tensor,
  bias: Tensor | undefined,
  launch: GemmLaunch,
): void {
  const limit = bindingBudget(getEngine());
  if (bias && spanBytes(bias) > limit) {
    throw new RangeError(
      `matmul: the bias ${bias} is larger than the maxStorageBufferBindingSize of ${limit} bytes`,
    );
  }
  const operands = { a, b, out };
  const names = { a: 'input', b: 'other', out: 'output' };
  const oversized = (['a', 'b', 'out'] as const).find((o) => spanBytes(operands[o]) > limit);
  if (!oversized) {
    launch(a, b, out, bias, bindView);
    return;
  }
  const t = operands[oversized];
  const d = widestDim(t);
  if (d < 0) {
    throw new RangeError(
      `matmul: one element of the ${names[oversized]} ${t} spans more than the maxStorageBufferBindingSize ` +
        `of ${limit} bytes`,
    );
  }
  const cut = cutAlong(oversized, d, t.ndim);
  const inner = cut.out === undefined;
  const size = t.shape[d];
  const half = Math.ceil(size / 2);
  for (const [start, count] of [
    [0, half],
    [half, size - half],
  ]) {
    const piece = (o: Operand) => {
      const v = operands[o];
      return cut[o] === undefined ? v.retain() : part(v, cut[o], start, count);
    };
    const [pa, pb] = [piece('a'), piece('b')];
    const pbias = bias && cut.out === t.ndim - 1 ? part(bias, 0, start, count) : bias?.retain();
    if (!inner) {
      const po = piece('out');
      splitGemm(pa, pb, po, pbias, launch);
      po.dispose();
    } else if (start === 0) {
      splitGemm(pa, pb, out, pbias, launch);
    } else {
      // A later part of K: summed on its own (the bias went into the first part), then added to the output.
      const sum = Tensor.empty(out.shape, out.dtype);
      splitGemm(pa, pb, sum, undefined, launch);
      map([out, sum], { name: 'add', expr: 'a0 + a1', outDtype: out.dtype, out });
      sum.dispose();
    }
    for (const v of [pa, pb, pbias]) v?.dispose();
  }
}
