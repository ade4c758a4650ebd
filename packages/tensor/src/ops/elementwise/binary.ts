import { type DType, isFloat } from '../../dtype.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { sumTo } from '../reduce/sum.js';
import { map } from './map.js';

export type Operand = Tensor | number;

/** Result dtype of a binary op, following PyTorch: float beats int, and a float scalar makes an int tensor float. */
function promote(a: Tensor, b: Operand): DType {
  if (typeof b === 'number') {
    if (isFloat(a.dtype)) return a.dtype;
    return Number.isInteger(b) ? (a.dtype === 'bool' ? 'int32' : a.dtype) : 'float32';
  }
  if (a.dtype === b.dtype) return a.dtype === 'bool' ? 'int32' : a.dtype;
  if (isFloat(a.dtype) || isFloat(b.dtype))
    return a.dtype === 'float32' || b.dtype === 'float32' ? 'float32' : 'float16';
  return 'int32';
}

function loadType(dtype: DType): string {
  return isFloat(dtype) ? 'f32' : dtype === 'int32' ? 'i32' : 'u32';
}

interface BinaryRule {
  /** Expression over a0, a1 in the promoted compute type. */
  expr: string;
  /** Gradient w.r.t. a: expression over a0 = grad, a1 = a, a2 = b. */
  gradA?: string;
  gradB?: string;
  helpers?: string;
}

/** pow with PyTorch's sign rules: negative bases with integral exponents are allowed. */
const POW = `fn powSigned(x: f32, e: f32) -> f32 {
  if (e == 0.0) { return 1.0; }
  let m = pow(abs(x), e);
  if (x >= 0.0) { return m; }
  // A runtime variable: constant-folding a NaN bit pattern is a WGSL compile error.
  var nanBits = 0x7fc00000u;
  if (fract(e) != 0.0) { return bitcast<f32>(nanBits); }
  return select(m, -m, fract(e * 0.5) != 0.0);
}`;

export const BINARY: Record<string, BinaryRule> = {
  add: { expr: 'a0 + a1', gradA: 'a0', gradB: 'a0' },
  sub: { expr: 'a0 - a1', gradA: 'a0', gradB: '-a0' },
  mul: { expr: 'a0 * a1', gradA: 'a0 * a2', gradB: 'a0 * a1' },
  div: { expr: 'a0 / a1', gradA: 'a0 / a2', gradB: '-a0 * a1 / (a2 * a2)' },
  pow: {
    expr: 'powSigned(a0, a1)',
    gradA: 'select(a0 * a2 * powSigned(a1, a2 - 1.0), 0.0, a2 == 0.0)',
    gradB: 'select(a0 * powSigned(a1, a2) * log(a1), 0.0, a1 <= 0.0)',
    helpers: POW,
  },
  // Ties split the gradient evenly, as PyTorch does for maximum/minimum.
  maximum: {
    expr: 'max(a0, a1)',
    gradA: 'select(select(0.0, 0.5 * a0, a1 == a2), a0, a1 > a2)',
    gradB: 'select(select(0.0, 0.5 * a0, a1 == a2), a0, a2 > a1)',
  },
  minimum: {
    expr: 'min(a0, a1)',
    gradA: 'select(select(0.0, 0.5 * a0, a1 == a2), a0, a1 < a2)',
    gradB: 'select(select(0.0, 0.5 * a0, a1 == a2), a0, a2 < a1)',
  },
  eq: { expr: 'select(0u, 1u, a0 == a1)' },
  ne: { expr: 'select(0u, 1u, a0 != a1)' },
  lt: { expr: 'select(0u, 1u, a0 < a1)' },
  le: { expr: 'select(0u, 1u, a0 <= a1)' },
  gt: { expr: 'select(0u, 1u, a0 > a1)' },
  ge: { expr: 'select(0u, 1u, a0 >= a1)' },
  logicalAnd: { expr: 'select(0u, 1u, a0 != 0 && a1 != 0)' },
  logicalOr: { expr: 'select(0u, 1u, a0 != 0 || a1 != 0)' },
};

const COMPARISONS = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr']);

/** Writes the scalar operand as a uniform word of the compute type. */
function scalarWord(value: number, compute: string) {
  return compute === 'f32' ? { f: value } : compute === 'i32' ? { i: value } : value >>> 0;
}

function scalarRead(compute: string): string {
  return compute === 'f32' ? 'uf(S+0u)' : compute === 'i32' ? 'usi(S+0u)' : 'ui(S+0u)';
}

export function binary(name: keyof typeof BINARY, a: Tensor, b: Operand): Tensor {
  const rule = BINARY[name];
  const computeDtype = promote(a, b);
  const compute = loadType(computeDtype);
  const outDtype = COMPARISONS.has(name) ? 'bool' : computeDtype;
  const expr = typeof b === 'number' ? rule.expr.replaceAll('a1', scalarRead(compute)) : rule.expr;
  const out = map(typeof b === 'number' ? [a] : [a, b], {
    name,
    expr,
    outDtype,
    loadTypes: typeof b === 'number' ? [compute] : [compute, compute],
    scalars: typeof b === 'number' ? [scalarWord(b, compute)] : [],
    helpers: rule.helpers,
  });
  if (!rule.gradA) return out;
  const { gradA, gradB } = rule;
  if (typeof b === 'number') {
    const gA = gradA.replaceAll('a2', scalarRead('f32'));
    return recordOp(
      name,
      out,
      [a],
      (g, [sa]) => [
        map([g, sa], {
          name: `${name}_backward`,
          expr: gA,
          outDtype: g.dtype,
          scalars: [{ f: b }],
          helpers: rule.helpers,
        }),
      ],
      [a],
    );
  }
  return recordOp(
    name,
    out,
    [a, b],
    (g, [sa, sb], needs) => {
      const grad = (expr: string | undefined, target: Tensor) => {
        if (!expr) return null;
        const full = map([g, sa, sb], {
          name: `${name}_backward`,
          expr,
          outDtype: g.dtype,
          helpers: rule.helpers,
        });
        const reduced = sumTo(full, target.shape);
        full.dispose();
        return reduced;
      };
      return [needs[0] ? grad(gradA, sa) : null, needs[1] ? grad(gradB, sb) : null];
    },
    [a, b],
  );
}

export const add = (a: Tensor, b: Operand) => binary('add', a, b);
export const sub = (a: Tensor, b: Operand) => binary('sub', a, b);
export const mul = (a: Tensor, b: Operand) => binary('mul', a, b);
export const div = (a: Tensor, b: Operand) => binary('div', a, b);
export const pow = (a: Tensor, b: Operand) => binary('pow', a, b);
export const maximum = (a: Tensor, b: Operand) => binary('maximum', a, b);
export const minimum = (a: Tensor, b: Operand) => binary('minimum', a, b);
export const eq = (a: Tensor, b: Operand) => binary('eq', a, b);
export const ne = (a: Tensor, b: Operand) => binary('ne', a, b);
export const lt = (a: Tensor, b: Operand) => binary('lt', a, b);
export const le = (a: Tensor, b: Operand) => binary('le', a, b);
export const gt = (a: Tensor, b: Operand) => binary('gt', a, b);
export const ge = (a: Tensor, b: Operand) => binary('ge', a, b);
export const logicalAnd = (a: Tensor, b: Operand) => binary('logicalAnd', a, b);
export const logicalOr = (a: Tensor, b: Operand) => binary('logicalOr', a, b);

/** a - b the other way round for scalars: `rsub(x, 1)` is 1 - x. */
export function rsub(a: Tensor, b: number): Tensor {
  return add(binary('mul', a, -1), b);
}
