import type { Tensor } from '@nephron/tensor';
import { BatchNorm2d } from '../layers/batchnorm.js';
import { Conv2d } from '../layers/conv.js';
import { foldBatchNorm, unfoldBatchNorm } from '../layers/fold-batch-norm.js';
import type { Module } from '../module/module.js';
import { EfficientNetEncoder, MBConvBlock } from './efficientnet.js';
import { Conv2dReLU } from './unet.js';

/** A model with its batch norms folded into the convolutions before them, for inference. */
export interface FusedModel<M extends Module> {
  readonly model: M;
  /** The model's forward in eval mode, each conv + BN pair run as one conv (with the activation after it). */
  forward(x: Tensor): ReturnType<M['forward']>;
  /** Frees the folded weights; the model runs unfused again. */
  dispose(): void;
}

/** The conv + batch-norm pairs a module runs through `convBnAct`, which are the ones folding may replace. */
function convBnPairs(m: Module): [Conv2d, BatchNorm2d][] {
  if (m instanceof MBConvBlock) {
    const pairs: [Conv2d, BatchNorm2d][] = [
      [m.depthwiseConv, m.bn1],
      [m.projectConv, m.bn2],
    ];
    if (m.expandConv && m.bn0) pairs.push([m.expandConv, m.bn0]);
    return pairs;
  }
  if (m instanceof EfficientNetEncoder) return [[m.convStem, m.bn0]];
  if (m instanceof Conv2dReLU) {
    const [conv, bn] = [m.at(0), m.at(1)];
    if (conv instanceof Conv2d && bn instanceof BatchNorm2d) return [[conv, bn]];
  }
  return [];
}

/**
 * Prepares `model` (an EfficientNet encoder, a UNet or anything built of their blocks) for inference: eval
 * mode, and every batch norm folded into the conv before it, once, into new weight and bias tensors. The model's
 * own parameters and buffers, and so its state dict, are untouched. Fold after the weights are final: training
 * the model afterwards (in train mode the folded weights are ignored) leaves them stale until `fuseForInference`
 * runs again.
 */
export function fuseForInference<M extends Module>(model: M): FusedModel<M> {
  model.eval();
  const convs: Conv2d[] = [];
  for (const m of model.modules()) {
    for (const [conv, bn] of convBnPairs(m)) {
      foldBatchNorm(conv, bn);
      convs.push(conv);
    }
  }
  return {
    model,
    forward: (x: Tensor) => model.forward(x) as ReturnType<M['forward']>,
    dispose: () => {
      for (const conv of convs) unfoldBatchNorm(conv);
    },
  };
}
