import type { DType } from '../../dtype.js';
import type { Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';

/** An untracked copy of `t` in `dtype` (rounded to nearest when narrowing), or another handle on `t` itself. */
export function convertTo(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return t.retain();
  return map([t], { name: 'convert', expr: 'a0', outDtype: dtype });
}

/**
 * Runs a float32 kernel on operands some of which may be float16, and returns its result in `outDtype`: half
 * operands are widened for the call and the float32 result is rounded once at the end. This is how an op whose
 * kernels only read float32 takes float16 storage while accumulating in float32; nothing is recorded for autograd.
 */
export function viaFloat32<T extends readonly (Tensor | null)[]>(
  operands: T,
  outDtype: DType,
  kernel: (...wide: { [K in keyof T]: T[K] }) => Tensor,
): Tensor {
  const wide = operands.map((t) => (t ? convertTo(t, 'float32') : null)) as unknown as {
    [K in keyof T]: T[K];
  };
  try {
    const result = kernel(...wide);
    if (result.dtype === outDtype) return result;
    const narrowed = convertTo(result, outDtype);
    result.dispose();
    return narrowed;
  } finally {
    for (const t of wide as readonly (Tensor | null)[]) t?.dispose();
  }
}

/** The one floating dtype shared by an op's operands, or an error naming the op and the odd one out. */
export function commonFloatDtype(op: string, operands: readonly [Tensor | null, string][]): DType {
  const present = operands.filter((o): o is [Tensor, string] => o[0] !== null);
  const [first, firstName] = present[0];
  for (const [t, name] of present) {
    if (t.dtype !== 'float32' && t.dtype !== 'float16') {
      throw new TypeError(`${op}: ${name} ${t} is ${t.dtype}; ${op} takes float32 or float16`);
    }
    if (t.dtype !== first.dtype) {
      throw new TypeError(
        `${op}: ${name} ${t} is ${t.dtype} but ${firstName} ${first} is ${first.dtype}; cast them to one dtype ` +
          '(or run the model under autocast)',
      );
    }
  }
  return first.dtype;
}
