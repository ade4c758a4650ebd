import { isFloat } from '../../dtype.js';
import { formatShape } from '../../shape.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import type { BatchNormOptions } from '../norm/batch-norm.js';
import { reduce } from '../reduce/reduce.js';
import { moments } from '../reduce/variance.js';
import { activate, activationGrad, checkActivation, type FusedActivation } from './activation.js';
import { channelMap } from './channel-map.js';

function perChannel(inputs: Tensor[], expr: string, scalars: number[] = []): Tensor {
  return map(inputs, {
    name: 'batch_norm_act_channel',
    expr,
    outDtype: 'float32',
    scalars: scalars.map((f) => ({ f })),
  });
}

function checkChannelTensor(t: Tensor | null, C: number, what: string): void {
  if (t && (t.ndim !== 1 || t.shape[0] !== C || t.dtype !== 'float32')) {
    throw new RangeError(
      `batchNormAct: ${what} ${t} must be float32 of shape [${C}], got ${formatShape(t.shape)}`,
    );
  }
}

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
  if (!isFloat(x.dtype)) throw new TypeError(`batchNormAct: input ${x} must be floating`);
  if (x.ndim < 2)
    throw new RangeError(`batchNormAct: input ${x} must be [N, C, ...], got ${formatShape(x.shape)}`);
  const C = x.shape[1];
  checkChannelTensor(runningMean, C, 'runningMean');
  checkChannelTensor(runningVar, C, 'runningVar');
  checkChannelTensor(weight, C, 'weight');
  checkChannelTensor(bias, C, 'bias');
  if ((runningMean === null) !== (runningVar === null))
    throw new Error('batchNormAct: give both runningMean and runningVar, or neither');
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const n = x.numel() / Math.max(C, 1);
  const batchStats = training || runningMean === null;
  if (batchStats && n <= 1) {
    throw new RangeError(
      `batchNormAct: expected more than 1 value per channel when training, got input ${formatShape(x.shape)}`,
    );
  }

  let mean: Tensor;
  let invstd: Tensor;
  if (batchStats) {
    const m = moments(x, dims, 0);
    mean = m.mean;
    invstd = perChannel([m.variance], 'inverseSqrt(a0 + uf(S+0u))', [eps]);
    if (training && runningMean && runningVar) {
      // In place and outside autograd, as PyTorch's buffers; the unbiased variance, as batchNorm.
      map([runningMean, mean], {
        name: 'running_mean',
        expr: 'a0 + uf(S+0u) * (a1 - a0)',
        outDtype: 'float32',
        out: runningMean,
        scalars: [{ f: momentum }],
      });
      map([runningVar, m.variance], {
        name: 'running_var',
        expr: '(1.0 - uf(S+0u)) * a0 + uf(S+0u) * a1 * uf(S+1u)',
        outDtype: 'float32',
        out: runningVar,
        scalars: [{ f: momentum }, { f: n / (n - 1) }],
      });
    }
    m.variance.dispose();
  } else {
    // Copies, so a later update of the running statistics cannot change what backward sees.
    mean = perChannel([runningMean!], 'a0');
    invstd = perChannel([runningVar!], 'inverseSqrt(a0 + uf(S+0u))', [eps]);
  }
  const scale = weight ? perChannel([weight, invstd], 'a0 * a1') : perChannel([invstd], 'a0');
  const shift = bias
    ? perChannel([bias, mean, scale], 'a0 - a1 * a2')
    : perChannel([mean, scale], '-a0 * a1');
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
          const b = perChannel([sScale, sInvstd, sumGx], '-a0 * a1 * a2 * uf(S+0u)', [1 / n]);
          const d = perChannel([sScale, sumG, b, sMean], '-a0 * a1 * uf(S+0u) - a2 * a3', [1 / n]);
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
