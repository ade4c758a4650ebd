import { map, noGrad, type Tensor } from '@nephron/tensor';
import type { BatchNorm2d } from './batchnorm.js';
import type { Conv2d } from './conv.js';

/** A convolution's weight and bias with the batch norm after it folded in: eval-mode BN as part of the conv. */
export interface FoldedConv {
  weight: Tensor;
  bias: Tensor;
}

// Kept beside the modules, not in them, so a folded model's state dict stays PyTorch's keys and values.
const folded = new WeakMap<Conv2d, FoldedConv>();

/**
 * Folds eval-mode `bn` into `conv`, once, into new tensors: with scale = γ / √(running_var + eps) per output
 * channel, weight' = weight · scale and bias' = (bias − running_mean) · scale + β. The conv's own parameters
 * are untouched; {@link convBnAct} uses the folded pair while the conv is in eval mode.
 */
export function foldBatchNorm(conv: Conv2d, bn: BatchNorm2d): void {
  if (!bn.runningMean || !bn.runningVar) {
    throw new Error(`foldBatchNorm: BatchNorm2d(${bn.numFeatures}) has no running statistics to fold`);
  }
  if (bn.numFeatures !== conv.outChannels) {
    throw new RangeError(
      `foldBatchNorm: BatchNorm2d(${bn.numFeatures}) cannot follow a conv with ${conv.outChannels} output channels`,
    );
  }
  unfoldBatchNorm(conv);
  const { runningMean, runningVar, weight: gamma, bias: beta } = bn;
  const C = bn.numFeatures;
  noGrad(() => {
    const scalars = [{ f: bn.eps }];
    const scale = gamma
      ? map([gamma, runningVar], {
          name: 'fold_scale',
          expr: 'a0 / sqrt(a1 + uf(S+0u))',
          outDtype: 'float32',
          scalars,
        })
      : map([runningVar], {
          name: 'fold_scale',
          expr: '1.0 / sqrt(a0 + uf(S+0u))',
          outDtype: 'float32',
          scalars,
        });
    const ones = new Array<number>(conv.weight.ndim - 1).fill(1);
    const perOut = scale.view([C, ...ones]);
    const weight = map([conv.weight, perOut], { name: 'fold_weight', expr: 'a0 * a1', outDtype: 'float32' });
    const inputs = [conv.bias ?? runningMean, runningMean, scale, ...(beta ? [beta] : [])];
    const centred = conv.bias ? 'a0 - a1' : '-a1';
    const bias = map(inputs, {
      name: 'fold_bias',
      expr: beta ? `(${centred}) * a2 + a3` : `(${centred}) * a2`,
      outDtype: 'float32',
    });
    perOut.dispose();
    scale.dispose();
    folded.set(conv, { weight, bias });
  });
}

/** The folded weight and bias of `conv`, if a batch norm was folded into it. */
export function foldedConv(conv: Conv2d): FoldedConv | undefined {
  return folded.get(conv);
}

/** Frees the folded pair of `conv`; it then runs its own weight and bias again. */
export function unfoldBatchNorm(conv: Conv2d): void {
  const pair = folded.get(conv);
  if (!pair) return;
  pair.weight.dispose();
  pair.bias.dispose();
  folded.delete(conv);
}
