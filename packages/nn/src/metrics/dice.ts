import { type Tensor, tidy, where } from '@nephron/tensor';

/**
 * The Dice coefficient of a thresholded prediction against a binary target, 2·|P ∩ T| / (|P| + |T|), over all
 * elements together (the HuBMAP competition's metric per image). Two empty masks agree perfectly: 1.
 * `probs` holds foreground probabilities (or any scores compared with `threshold`); `target` is non-zero on the
 * foreground. Returns a scalar tensor so that evaluation stays on the GPU until it is read.
 */
export function diceCoefficient(probs: Tensor, target: Tensor, threshold = 0.5): Tensor {
  if (probs.shape.length !== target.shape.length || probs.shape.some((d, i) => d !== target.shape[i])) {
    throw new RangeError(`diceCoefficient: prediction ${probs} and target ${target} differ in shape`);
  }
  return tidy(() => {
    const p = probs.gt(threshold).to('float32');
    const t = target.ne(0).to('float32');
    const intersection = p.mul(t).sum();
    const total = p.sum().add(t.sum());
    return where(total.eq(0), 1, intersection.mul(2).div(total.clamp(1)));
  });
}
