import { recordOp, type Tensor } from '../../tensor.js';
import type { BatchNormOptions } from '../norm/batch-norm.js';
import { batchNormStatistics, perChannel } from '../norm/batch-norm-stats.js';
import { reduce } from '../reduce/reduce.js';
import { activate, activationGrad, checkActivation, type FusedActivation } from './activation.js';
import { channelMap } from './channel-map.js';

/**
 * `act(batchNorm(x))` in one elementwise pass, as EfficientNet's BN + swish and UNet's BN + ReLU: the same
 * statistics, running-statistics update and rounding as {@link batchNorm} followed by `silu`/`relu`, without the
 * normalised tensor ever being stored. Backward saves only `x` (the unfused chain also keeps the normalised
 * tensor for the activation's rule) and recomputes z = x·scale + shift where it needs it: one pass of per-channel
 * sums (Σg·act'(z), Σg·act'(z)·x̂) and one elementwise pass for the input gradient.
 */
export function batchNormAct(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  activation: FusedActivation,
  { training = false, momentum = 0.1, eps = 1e-5 }: BatchNormOptions = {},
): Tensor {
  checkActivation(activation, 'batchNormAct');
  const { mean, invstd, scale, shift, batchStats, dims, n } = batchNormStatistics(
    'batchNormAct',
    'batch_norm_act',
    x,
    runningMean,
    runningVar,
    weight,
    bias,
    { training, momentum, eps },
  );
  const y = channelMap(
    [x],
    [
      { tensor: scale, per: 'channel' },
      { tensor: shift, per: 'channel' },
    ],
    { name: `batch_norm_${activation}`, body: 'let z = a0 * c0 + c1;', expr: activate(activation, 'z') },
  );

  const result = recordOp(
    `batchNorm+${activation}`,
    y,
    [x, weight, bias],
    (g, [sx, sMean, sInvstd, sScale, sShift], needs) => {
      // Per channel: Σgz and Σgz·x̂, with gz = g·act'(x·scale + shift) and x̂ = (x − mean)·invstd, in one pass.
      const gz = activationGrad(activation, 'a0', '(a1 * p2 + p3)');
      const [sumG, sumGx] = reduce({
        name: `batch_norm_${activation}_backward_sums`,
        monoid: 'sum2',
        inputs: [g, sx],
        dims,
        params: [sMean, sInvstd, sScale, sShift],
        value: `vec2<f32>(${gz}, ${gz} * (a1 - p0) * p1)`,
        outputs: [
          { dtype: 'float32', expr: 's.v.x' },
          { dtype: 'float32', expr: 's.v.y' },
        ],
      });
      let gx: Tensor | null = null;
      if (needs[0]) {
        const name = `batch_norm_${activation}_backward`;
        const body = `let gz = ${activationGrad(activation, 'a0', '(a1 * c0 + c1)')};`;
        const coefficient = (tensor: Tensor) => ({ tensor, per: 'channel' as const });
        if (batchStats) {
          // gx = scale·(gz − Σgz/n − x̂·Σgzx̂/n) = scale·gz + B·x + D, per channel B = −scale·invstd·Σgzx̂/n,
          // D = −scale·Σgz/n − B·mean (the grouping batchNorm's backward uses).
          const b = perChannel('batch_norm_act', [sScale, sInvstd, sumGx], '-a0 * a1 * a2 * uf(S+0u)', [
            1 / n,
          ]);
          const d = perChannel('batch_norm_act', [sScale, sumG, b, sMean], '-a0 * a1 * uf(S+0u) - a2 * a3', [
            1 / n,
          ]);
          gx = channelMap([g, sx], [sScale, sShift, b, d].map(coefficient), {
            name,
            body,
            expr: 'gz * c0 + a1 * c2 + c3',
          });
          b.dispose();
          d.dispose();
        } else {
          gx = channelMap([g, sx], [sScale, sShift].map(coefficient), {
            name: `${name}_eval`,
            body,
            expr: 'gz * c0',
          });
        }
      }
      const gw = needs[1] ? sumGx : null;
      const gb = needs[2] ? sumG : null;
      if (!gw) sumGx.dispose();
      if (!gb) sumG.dispose();
      return [gx, gw, gb];
    },
    [x, mean, invstd, scale, shift],
  );
  mean.dispose();
  invstd.dispose();
  scale.dispose();
  shift.dispose();
  return result;
}
