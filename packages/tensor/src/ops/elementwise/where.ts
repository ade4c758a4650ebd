import { type DType, isFloat } from '../../dtype.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { full } from '../creation.js';
import { sumTo } from '../reduce/sum.js';
import { map } from './map.js';

/** `cond ? a : b` elementwise with broadcasting, like `torch.where`. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const dtype: DType = typeof a !== 'number' ? a.dtype : typeof b !== 'number' ? b.dtype : 'float32';
  const ta = typeof a === 'number' ? full([], a, { dtype }) : a;
  const tb = typeof b === 'number' ? full([], b, { dtype }) : b;
  const load = isFloat(dtype) ? 'f32' : dtype === 'int32' ? 'i32' : 'u32';
  const out = map([cond, ta, tb], {
    name: 'where',
    expr: 'select(a2, a1, a0 != 0u)',
    outDtype: dtype,
    loadTypes: ['u32', load, load],
  });
  const result = recordOp(
    'where',
    out,
    [null, ta, tb],
    (g, [c, sa, sb], needs) => {
      const part = (expr: string, target: Tensor) => {
        const full = map([g, c], {
          name: 'where_backward',
          expr,
          outDtype: g.dtype,
          loadTypes: ['f32', 'u32'],
        });
        const r = sumTo(full, target.shape);
        full.dispose();
        return r;
      };
      return [
        null,
        needs[1] ? part('select(0.0, a0, a1 != 0u)', sa) : null,
        needs[2] ? part('select(a0, 0.0, a1 != 0u)', sb) : null,
      ];
    },
    [cond, ta, tb],
  );
  if (ta !== a) ta.dispose();
  if (tb !== b) tb.dispose();
  return result;
}

/** Limits values to [min, max]; the gradient passes where the input was inside the range (ends included). */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  const lo = min ?? Number.NEGATIVE_INFINITY;
  const hi = max ?? Number.POSITIVE_INFINITY;
  if (!isFloat(x.dtype)) {
    const load = x.dtype === 'int32' ? 'i32' : 'u32';
    const bound = (v: number) =>
      x.dtype === 'int32'
        ? { i: Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v)) }
        : Math.max(0, Math.min(2 ** 32 - 1, v));
    const read = (k: number) => (x.dtype === 'int32' ? `usi(S+${k}u)` : `ui(S+${k}u)`);
    return map([x], {
      name: 'clamp',
      expr: `clamp(a0, ${read(0)}, ${read(1)})`,
      outDtype: x.dtype,
      loadTypes: [load],
      scalars: [bound(lo), bound(hi)],
    });
  }
  const out = map([x], {
    name: 'clamp',
    expr: 'min(max(a0, uf(S+0u)), uf(S+1u))',
    outDtype: x.dtype,
    scalars: [{ f: lo }, { f: hi }],
  });
  return recordOp(
    'clamp',
    out,
    [x],
    (g, [sx]) => [
      map([g, sx], {
        name: 'clamp_backward',
        expr: 'select(0.0, a0, a1 >= uf(S+0u) && a1 <= uf(S+1u))',
        outDtype: g.dtype,
        scalars: [{ f: lo }, { f: hi }],
      }),
    ],
    [x],
  );
}

/** Converts to another dtype (float to int truncates toward zero; to bool tests != 0). */
export function cast(x: Tensor, dtype: DType): Tensor {
  const load = isFloat(x.dtype) ? 'f32' : x.dtype === 'int32' ? 'i32' : 'u32';
  const expr = dtype === 'bool' ? 'select(0u, 1u, a0 != 0)' : 'a0';
  const out = map([x], { name: 'cast', expr, outDtype: dtype, loadTypes: [load] });
  if (!isFloat(dtype) || !isFloat(x.dtype)) return out;
  const from = x.dtype;
  return recordOp('cast', out, [x], (g) => [cast(g, from)]);
}
