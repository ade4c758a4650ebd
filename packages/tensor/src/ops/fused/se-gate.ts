import { isFloat } from '../../dtype.js';
import { formatShape } from '../../shape.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import { unary } from '../elementwise/unary.js';
import { convertTo } from '../precision/via-float32.js';
import { reduce } from '../reduce/reduce.js';
import { view } from '../views.js';
import { channelMap } from './channel-map.js';

/**
 * Squeeze-and-excitation's gate, `x · sigmoid(s)` for x [N, C, H, W] and s [N, C, 1, 1], as one elementwise pass
 * that reads the gate per (sample, channel) plane. Backward saves x and the small gate: the input gradient is
 * g·sigmoid(s), and the gate's is Σ over H, W of g·x (one reduction that reads g and x, where the unfused
 * multiply would first store the full-size product g·x), times sigmoid'(s).
 */
export function seGate(x: Tensor, s: Tensor): Tensor {
  if (!isFloat(x.dtype) || !isFloat(s.dtype))
    throw new TypeError(`seGate: input ${x} and gate ${s} must be floating`);
  const [N, C] = x.shape;
  if (
    x.ndim !== 4 ||
    s.ndim !== 4 ||
    s.shape[0] !== N ||
    s.shape[1] !== C ||
    s.shape[2] !== 1 ||
    s.shape[3] !== 1
  ) {
    throw new RangeError(
      `seGate: expected x [N, C, H, W] and gate [N, C, 1, 1], got ${formatShape(x.shape)} and ${formatShape(s.shape)}`,
    );
  }
  // The gate is small: its sigmoid is computed once (with the same kernel as `sigmoid`), not per pixel.
  const gate = widened(unaryNoGrad('sigmoid', s));
  const y = channelMap([x], [{ tensor: gate, per: 'plane' }], { name: 'se_gate', expr: 'a0 * c0' });
  const result = recordOp(
    'seGate',
    y,
    [x, s],
    (g, [sx, sGate], needs) => {
      const gx = needs[0]
        ? channelMap([g], [{ tensor: sGate, per: 'plane' }], { name: 'se_gate_backward', expr: 'a0 * c0' })
        : null;
      let gs: Tensor | null = null;
      if (needs[1]) {
        const [sumGx] = reduce({
          name: 'se_gate_backward_sum',
          monoid: 'sum',
          inputs: [g, sx],
          dims: [2, 3],
          value: 'a0 * a1',
          outputs: [{ dtype: 'float32', expr: 's.v' }],
        });
        const planes = view(sumGx, [N, C, 1, 1]);
        sumGx.dispose();
        gs = map([planes, sGate], {
          name: 'se_gate_backward_gate',
          expr: 'a0 * a1 * (1.0 - a1)',
          outDtype: s.dtype,
        });
        planes.dispose();
      }
      return [gx, gs];
    },
    [x, gate],
  );
  gate.dispose();
  return result;
}

/** channelMap reads its coefficients as float32; a float16 gate (under autocast) is [N, C, 1, 1], cheap to widen. */
function widened(t: Tensor): Tensor {
  if (t.dtype === 'float32') return t;
  const wide = convertTo(t, 'float32');
  t.dispose();
  return wide;
}

function unaryNoGrad(name: 'sigmoid', t: Tensor): Tensor {
  const detached = t.detach();
  const out = unary(name, detached);
  detached.dispose();
  return out;
}
