import type { Tensor } from '../../tensor.js';
import { type ClassLossOptions, classLoss } from './class-loss.js';

/**
 * Cross entropy of raw logits [N, C] or [N, C, d1, ...] against int32 class indices [N] or [N, d1, ...], like
 * `torch.nn.functional.cross_entropy`: log-softmax and negative log-likelihood fused into one kernel each way,
 * and a backward of softmax − onehot in a single pass over the logits.
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: ClassLossOptions = {}): Tensor {
  return classLoss('ce', logits, target, options);
}

/** Negative log-likelihood of log-probabilities against class indices, like `torch.nn.functional.nll_loss`. */
export function nllLoss(logProbs: Tensor, target: Tensor, options: ClassLossOptions = {}): Tensor {
  return classLoss('nll', logProbs, target, options);
}
