import { isFloat } from '../../dtype.js';
import { formatShape } from '../../shape.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { sum } from '../reduce/sum.js';
import { activate, activationGrad, checkActivation, type FusedActivation } from './activation.js';
import { channelMap } from './channel-map.js';

/**
 * `act(x + bias[c])` over [N, C, ...] in one elementwise pass: the epilogue of a convolution whose batch norm was
 * folded into it, run after the bias-free conv so that conv keeps the kernels the unfolded model compiles.
 * Backward saves only x and recomputes x + bias where the activation's derivative needs it.
 */
export function biasAct(x: Tensor, bias: Tensor, activation: FusedActivation): Tensor {
  checkActivation(activation, 'biasAct');
  if (!isFloat(x.dtype)) throw new TypeError(`biasAct: input ${x} must be floating`);
  if (x.ndim < 2 || bias.ndim !== 1 || bias.shape[0] !== x.shape[1] || bias.dtype !== 'float32') {
    throw new RangeError(
      `biasAct: expected x [N, C, ...] and a float32 bias [C], got ${formatShape(x.shape)} and ${formatShape(bias.shape)}`,
    );
  }
  const y = channelMap([x], [{ tensor: bias, per: 'channel' }], {
    name: `bias_${activation}`,
    body: 'let z = a0 + c0;',
    expr: activate(activation, 'z'),
  });
  return recordOp(
    `bias+${activation}`,
    y,
    [x, bias],
    (g, [sx, sBias], needs) => {
      const gz = channelMap([g, sx], [{ tensor: sBias, per: 'channel' }], {
        name: `bias_${activation}_backward`,
        body: 'let z = a1 + c0;',
        expr: activationGrad(activation, 'a0', 'z'),
      });
      const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
      const gb = needs[1] ? sum(gz, dims) : null;
      if (needs[0]) return [gz, gb];
      gz.dispose();
      return [null, gb];
    },
    [x, bias],
  );
}
