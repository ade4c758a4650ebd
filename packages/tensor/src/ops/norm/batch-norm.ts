import { formatShape } from '../../shape.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { reduce } from '../reduce/reduce.js';
import { batchNormStatistics, perChannel } from './batch-norm-stats.js';
import { channelAffine } from './channel-affine.js';

export interface BatchNormOptions {
  /** Normalise with the batch's statistics and update the running ones (default false, as PyTorch's functional). */
  training?: boolean;
  /** Weight of the new batch in the running averages: running = (1 − momentum)·running + momentum·batch. */
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over dim 1 of [N, C, ...], as `torch.nn.functional.batch_norm`. Training (or no running
 * statistics) normalises with the batch mean and biased variance, from one Welford pass per channel, and updates
 * `runningMean`/`runningVar` in place with the unbiased variance; eval normalises with the running statistics.
 * The forward is that statistics pass plus one elementwise kernel; the backward is one fused pair of per-channel
 * sums (Σg, Σg·x̂) plus one elementwise kernel, giving gradients for x, weight (γ) and bias (β).
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  { training = false, momentum = 0.1, eps = 1e-5 }: BatchNormOptions = {},
): Tensor {
  const { mean, invstd, scale, shift, batchStats, dims, n } = batchNormStatistics(
    'batchNorm',
    'batch_norm',
    x,
    runningMean,
    runningVar,
    weight,
    bias,
    { training, momentum, eps },
  );
  const y = channelAffine(x, scale, null, null, shift, 'batch_norm');
  shift.dispose();

  const result = recordOp(
    'batchNorm',
    y,
    [x, weight, bias],
    (g, [sx, sMean, sInvstd, sScale], needs) => {
      // Per channel: Σg and Σg·x̂ with x̂ = (x − mean)·invstd, in one pass over g and x.
      const [sumG, sumGx] = reduce({
        name: 'batch_norm_backward_sums',
        monoid: 'sum2',
        inputs: [g, sx],
        dims,
        params: [sMean, sInvstd],
        value: 'vec2<f32>(a0, a0 * (a1 - p0) * p1)',
        outputs: [
          { dtype: 'float32', expr: 's.v.x' },
          { dtype: 'float32', expr: 's.v.y' },
        ],
      });
      let gx: Tensor | null = null;
      if (needs[0]) {
        if (batchStats) {
          // gx = k·(g − Σg/n − x̂·Σgx̂/n) = A·g + B·x + D, per channel A = k, B = −k·invstd·Σgx̂/n, D = −k·Σg/n − B·mean.
          const b = perChannel('batch_norm', [sScale, sInvstd, sumGx], '-a0 * a1 * a2 * uf(S+0u)', [1 / n]);
          const d = perChannel('batch_norm', [sScale, sumG, b, sMean], '-a0 * a1 * uf(S+0u) - a2 * a3', [
            1 / n,
          ]);
          gx = channelAffine(g, sScale, sx, b, d, 'batch_norm_backward');
          b.dispose();
          d.dispose();
        } else {
          gx = channelAffine(g, sScale, null, null, null, 'batch_norm_backward');
        }
      }
      const gw = needs[1] ? sumGx : null;
      const gb = needs[2] ? sumG : null;
      if (!gw) sumGx.dispose();
      if (!gb) sumG.dispose();
      return [gx, gw, gb];
    },
    [x, mean, invstd, scale],
  );
  mean.dispose();
  invstd.dispose();
  scale.dispose();
  return result;
}

/** {@link batchNorm} for [N, C, H, W] input, as `torch.nn.BatchNorm2d` computes it. */
export function batchNorm2d(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  options: BatchNormOptions = {},
): Tensor {
  if (x.ndim !== 4)
    throw new RangeError(`batchNorm2d: input ${x} must be [N, C, H, W], got ${formatShape(x.shape)}`);
  return batchNorm(x, runningMean, runningVar, weight, bias, options);
}
