import { isFloat } from '../../dtype.js';
import { formatShape } from '../../shape.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import { reduce } from '../reduce/reduce.js';
import { moments } from '../reduce/variance.js';
import { channelAffine } from './channel-affine.js';

export interface BatchNormOptions {
  /** Normalise with the batch's statistics and update the running ones (default false, as PyTorch's functional). */
  training?: boolean;
  /** Weight of the new batch in the running averages: running = (1 − momentum)·running + momentum·batch. */
  momentum?: number;
  eps?: number;
}

function fma(inputs: Tensor[], expr: string, scalars: number[] = []): Tensor {
  return map(inputs, {
    name: 'batch_norm_channel',
    expr,
    outDtype: 'float32',
    scalars: scalars.map((f) => ({ f })),
  });
}

function checkChannelTensor(t: Tensor | null, C: number, what: string): void {
  if (t && (t.ndim !== 1 || t.shape[0] !== C || t.dtype !== 'float32')) {
    throw new RangeError(
      `batchNorm: ${what} ${t} must be float32 of shape [${C}], got ${formatShape(t.shape)}`,
    );
  }
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
  if (!isFloat(x.dtype)) throw new TypeError(`batchNorm: input ${x} must be floating`);
  if (x.ndim < 2)
    throw new RangeError(`batchNorm: input ${x} must be [N, C, ...], got ${formatShape(x.shape)}`);
  const C = x.shape[1];
  checkChannelTensor(runningMean, C, 'runningMean');
  checkChannelTensor(runningVar, C, 'runningVar');
  checkChannelTensor(weight, C, 'weight');
  checkChannelTensor(bias, C, 'bias');
  if ((runningMean === null) !== (runningVar === null))
    throw new Error('batchNorm: give both runningMean and runningVar, or neither');
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const n = x.numel() / Math.max(C, 1);
  const batchStats = training || runningMean === null;
  if (batchStats && n <= 1) {
    throw new RangeError(
      `batchNorm: expected more than 1 value per channel when training, got input ${formatShape(x.shape)}`,
    );
  }

  let mean: Tensor;
  let invstd: Tensor;
  if (batchStats) {
    const m = moments(x, dims, 0);
    mean = m.mean;
    invstd = fma([m.variance], 'inverseSqrt(a0 + uf(S+0u))', [eps]);
    if (training && runningMean && runningVar) {
      // In place and outside autograd, as PyTorch's buffers.
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
    mean = fma([runningMean!], 'a0');
    invstd = fma([runningVar!], 'inverseSqrt(a0 + uf(S+0u))', [eps]);
  }
  const scale = weight ? fma([weight, invstd], 'a0 * a1') : fma([invstd], 'a0');
  const shift = bias ? fma([bias, mean, scale], 'a0 - a1 * a2') : fma([mean, scale], '-a0 * a1');
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
          const b = fma([sScale, sInvstd, sumGx], '-a0 * a1 * a2 * uf(S+0u)', [1 / n]);
          const d = fma([sScale, sumG, b, sMean], '-a0 * a1 * uf(S+0u) - a2 * a3', [1 / n]);
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
