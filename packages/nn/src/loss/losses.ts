import { type ClassLossOptions, crossEntropy, softmax, type Tensor, tidy } from '@nephron/tensor';

/**
 * Segmentation losses over N×C×H×W logits and N×H×W int32 class-index targets, as the reference HuBMAP
 * training uses them: cross entropy plus smp's soft Dice loss, summed 1:1.
 */

/** Mean cross entropy over every pixel, as `torch.nn.functional.cross_entropy`. */
export function crossEntropyLoss(logits: Tensor, target: Tensor, options: ClassLossOptions = {}): Tensor {
  return crossEntropy(logits, target, options);
}

export interface DiceLossOptions {
  /** The classes whose Dice loss is averaged (smp's `classes`; default [1], the foreground). */
  classes?: readonly number[];
  /** Added to numerator and denominator (smp's `smooth`, default 0). */
  smooth?: number;
  /** The denominator's lower clamp (smp's `eps`, default 1e-7). */
  eps?: number;
}

function checkTargets(logits: Tensor, target: Tensor, what: string): void {
  const [n, , h, w] = logits.shape;
  if (
    logits.ndim !== 4 ||
    target.ndim !== 3 ||
    target.shape[0] !== n ||
    target.shape[1] !== h ||
    target.shape[2] !== w
  ) {
    throw new RangeError(`${what}: expected N×C×H×W logits and N×H×W targets, got ${logits} and ${target}`);
  }
  if (target.dtype !== 'int32' && target.dtype !== 'uint32') {
    throw new TypeError(`${what}: targets ${target} must hold class indices (int32), not ${target.dtype}`);
  }
}

/**
 * smp's `DiceLoss(mode='multiclass', classes, from_logits=True)`: the softmax probability of each class against
 * its one-hot target, summed over the batch and all pixels, loss = 1 − (2·Σp·t + smooth) / max(Σp + Σt + smooth,
 * eps), set to 0 for a class absent from the whole batch, averaged over `classes`.
 */
export function diceLoss(logits: Tensor, target: Tensor, options: DiceLossOptions = {}): Tensor {
  const { classes = [1], smooth = 0, eps = 1e-7 } = options;
  checkTargets(logits, target, 'diceLoss');
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c >= logits.shape[1]) {
      throw new RangeError(`diceLoss: class ${c} is not one of the ${logits.shape[1]} channels of ${logits}`);
    }
  }
  return tidy(() => {
    const probs = softmax(logits, 1);
    let total: Tensor | null = null;
    for (const c of classes) {
      const p = probs.narrow(1, c, 1).squeeze(1);
      const t = target.eq(c).to('float32');
      const targetSum = t.sum();
      const intersection = p.mul(t).sum();
      const cardinality = p.sum().add(targetSum);
      const score = intersection.mul(2).add(smooth).div(cardinality.add(smooth).clamp(eps));
      const present = targetSum.gt(0).to('float32');
      const loss = score.neg().add(1).mul(present);
      total = total ? total.add(loss) : loss;
    }
    return (total as Tensor).div(classes.length);
  });
}

/** The training loss: cross entropy + Dice, 1:1. */
export function ceDiceLoss(logits: Tensor, target: Tensor, options: DiceLossOptions = {}): Tensor {
  return tidy(() => crossEntropyLoss(logits, target).add(diceLoss(logits, target, options)));
}
