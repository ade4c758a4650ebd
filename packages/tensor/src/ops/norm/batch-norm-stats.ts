import { isFloat } from '../../dtype.js';
import { formatShape } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import { moments } from '../reduce/variance.js';
import type { BatchNormOptions } from './batch-norm.js';

/**
 * What batch normalisation computes per channel before touching x again: y = x·scale + shift. The caller owns
 * `mean`, `invstd`, `scale` and `shift` (backward needs some of them) and disposes them.
 */
export interface BatchNormStatistics {
  mean: Tensor;
  invstd: Tensor;
  scale: Tensor;
  shift: Tensor;
  /** Normalised with the batch's own statistics (training, or no running ones): backward differentiates them. */
  batchStats: boolean;
  /** Every dim but the channel's. */
  dims: number[];
  /** Values per channel. */
  n: number;
}

/** One small per-channel kernel; `op` names it in the compiled pipeline. */
export function perChannel(op: string, inputs: Tensor[], expr: string, scalars: number[] = []): Tensor {
  return map(inputs, {
    name: `${op}_channel`,
    expr,
    outDtype: 'float32',
    scalars: scalars.map((f) => ({ f })),
  });
}

function checkChannelTensor(op: string, t: Tensor | null, C: number, what: string): void {
  if (t && (t.ndim !== 1 || t.shape[0] !== C || t.dtype !== 'float32')) {
    throw new RangeError(`${op}: ${what} ${t} must be float32 of shape [${C}], got ${formatShape(t.shape)}`);
  }
}

/**
 * Checks the operands of `op` (batchNorm, batchNormAct), computes the batch statistics in one Welford pass per
 * channel (or copies the running ones in eval), updates `runningMean`/`runningVar` in place with the unbiased
 * variance when training, as PyTorch does, and folds weight and bias into a per-channel scale and shift.
 */
export function batchNormStatistics(
  op: string,
  kernel: string,
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  { training = false, momentum = 0.1, eps = 1e-5 }: BatchNormOptions,
): BatchNormStatistics {
  if (!isFloat(x.dtype)) throw new TypeError(`${op}: input ${x} must be floating`);
  if (x.ndim < 2) throw new RangeError(`${op}: input ${x} must be [N, C, ...], got ${formatShape(x.shape)}`);
  const C = x.shape[1];
  checkChannelTensor(op, runningMean, C, 'runningMean');
  checkChannelTensor(op, runningVar, C, 'runningVar');
  checkChannelTensor(op, weight, C, 'weight');
  checkChannelTensor(op, bias, C, 'bias');
  if ((runningMean === null) !== (runningVar === null))
    throw new Error(`${op}: give both runningMean and runningVar, or neither`);
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const n = x.numel() / Math.max(C, 1);
  const batchStats = training || runningMean === null;
  if (batchStats && n <= 1) {
    throw new RangeError(
      `${op}: expected more than 1 value per channel when training, got input ${formatShape(x.shape)}`,
    );
  }

  const channel = (inputs: Tensor[], expr: string, scalars: number[] = []) =>
    perChannel(kernel, inputs, expr, scalars);
  let mean: Tensor;
  let invstd: Tensor;
  if (batchStats) {
    const m = moments(x, dims, 0);
    mean = m.mean;
    invstd = channel([m.variance], 'inverseSqrt(a0 + uf(S+0u))', [eps]);
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
    mean = channel([runningMean!], 'a0');
    invstd = channel([runningVar!], 'inverseSqrt(a0 + uf(S+0u))', [eps]);
  }
  const scale = weight ? channel([weight, invstd], 'a0 * a1') : channel([invstd], 'a0');
  const shift = bias ? channel([bias, mean, scale], 'a0 - a1 * a2') : channel([mean, scale], '-a0 * a1');
  return { mean, invstd, scale, shift, batchStats, dims, n };
}
