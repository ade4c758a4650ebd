import { isFloat } from '../../dtype.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { map } from './map.js';

/**
 * Unary ops. Each forward is one WGSL expression over `a0`; each backward is one fused kernel over the
 * upstream gradient `a0` and a saved tensor `a1` (the input x or the output y, as the rule says).
 */
interface UnaryRule {
  forward: string;
  /** Gradient expression over a0 = grad, a1 = saved tensor. */
  backward?: string;
  /** Which tensor the backward rule reads. */
  saves?: 'input' | 'output';
  helpers?: string;
  /** Keeps the input's dtype for integer inputs (neg, abs); otherwise integer inputs are an error. */
  integers?: boolean;
}

const SIGMOID =
  'fn sigmoid(x: f32) -> f32 { return select(exp(x) / (1.0 + exp(x)), 1.0 / (1.0 + exp(-x)), x >= 0.0); }';

export const UNARY: Record<string, UnaryRule> = {
  neg: { forward: '-a0', backward: '-a0', integers: true },
  abs: { forward: 'abs(a0)', backward: 'a0 * sign(a1)', saves: 'input', integers: true },
  exp: { forward: 'exp(a0)', backward: 'a0 * a1', saves: 'output' },
  log: { forward: 'log(a0)', backward: 'a0 / a1', saves: 'input' },
  sqrt: { forward: 'sqrt(a0)', backward: 'a0 / (2.0 * a1)', saves: 'output' },
  rsqrt: { forward: 'inverseSqrt(a0)', backward: '-0.5 * a0 * a1 * a1 * a1', saves: 'output' },
  relu: { forward: 'max(a0, 0.0)', backward: 'select(0.0, a0, a1 > 0.0)', saves: 'input' },
  sigmoid: { forward: 'sigmoid(a0)', backward: 'a0 * a1 * (1.0 - a1)', saves: 'output', helpers: SIGMOID },
  silu: {
    forward: 'a0 * sigmoid(a0)',
    backward: 'a0 * sigmoid(a1) * (1.0 + a1 * (1.0 - sigmoid(a1)))',
    saves: 'input',
    helpers: SIGMOID,
  },
  tanh: { forward: 'tanh(clamp(a0, -15.0, 15.0))', backward: 'a0 * (1.0 - a1 * a1)', saves: 'output' },
  sin: { forward: 'sin(a0)', backward: 'a0 * cos(a1)', saves: 'input' },
  cos: { forward: 'cos(a0)', backward: '-a0 * sin(a1)', saves: 'input' },
  square: { forward: 'a0 * a0', backward: '2.0 * a0 * a1', saves: 'input', integers: true },
  reciprocal: { forward: '1.0 / a0', backward: '-a0 * a1 * a1', saves: 'output' },
  sign: { forward: 'sign(a0)', backward: '0.0 * a0', integers: true },
};

export type UnaryName = keyof typeof UNARY;

export function unary(name: UnaryName, x: Tensor): Tensor {
  const rule = UNARY[name];
  if (!isFloat(x.dtype) && !rule.integers)
    throw new TypeError(`${name} needs a floating tensor, got ${x} (${x.dtype})`);
  const y = map([x], { name, expr: rule.forward, outDtype: x.dtype, helpers: rule.helpers });
  if (!rule.backward) return y;
  const backward = rule.backward;
  return recordOp(
    name,
    y,
    [x],
    (g, saved) => [
      map(saved.length ? [g, saved[0]] : [g], {
        name: `${name}_backward`,
        expr: backward,
        outDtype: g.dtype,
        helpers: rule.helpers,
      }),
    ],
    rule.saves === 'input' ? [x] : rule.saves === 'output' ? [y] : [],
  );
}

export const neg = (x: Tensor) => unary('neg', x);
export const abs = (x: Tensor) => unary('abs', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const rsqrt = (x: Tensor) => unary('rsqrt', x);
export const relu = (x: Tensor) => unary('relu', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const silu = (x: Tensor) => unary('silu', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const sin = (x: Tensor) => unary('sin', x);
export const cos = (x: Tensor) => unary('cos', x);
export const square = (x: Tensor) => unary('square', x);
export const reciprocal = (x: Tensor) => unary('reciprocal', x);
export const sign = (x: Tensor) => unary('sign', x);
