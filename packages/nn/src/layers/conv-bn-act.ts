import { biasAct, conv2d, type FusedActivation, type Tensor } from '@nephron/tensor';
import type { BatchNorm2d } from './batchnorm.js';
import type { Conv2d } from './conv.js';
import { foldedConv } from './fold-batch-norm.js';

/**
 * conv → batch norm → activation, the unit EfficientNet and the UNet decoder are built of, run the cheapest
 * exact way: with the batch norm folded into the conv when the model was fused for inference (eval mode only),
 * otherwise the conv then one fused normalise-and-activate kernel. The conv's output is released as soon as the
 * batch norm has read it; autograd keeps its own handle where backward needs it.
 */
export function convBnAct(conv: Conv2d, bn: BatchNorm2d, x: Tensor, activation: FusedActivation): Tensor {
  const pair = conv.training || bn.training ? undefined : foldedConv(conv);
  if (pair) {
    // The folded bias goes in the activation's pass, not the conv: the bias-free conv runs the kernels the
    // unfolded model already compiled, and the epilogue is one elementwise pass either way.
    const y = conv2d(x, pair.weight, null, {
      stride: conv.stride,
      padding: conv.padding,
      dilation: conv.dilation,
      groups: conv.groups,
    });
    const out = biasAct(y, pair.bias, activation);
    y.dispose();
    return out;
  }
  const y = conv.forward(x);
  const out = bn.forwardAct(y, activation);
  y.dispose();
  return out;
}
