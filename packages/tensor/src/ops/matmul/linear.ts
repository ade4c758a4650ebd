import { formatShape } from '../../shape.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { autocastCall } from '../precision/autocast.js';
import { commonFloatDtype } from '../precision/via-float32.js';
import { sumTo } from '../reduce/sum.js';
import { reshape } from '../views.js';
import { batchedGemm } from './matmul.js';

/** The last two dims swapped, as a view. */
function t2(x: Tensor): Tensor {
  return x.asView([x.shape[1], x.shape[0]], [x.strides[1], x.strides[0]], x.offset);
}

/**
 * y = x · weightᵀ + bias, as `torch.nn.functional.linear`: `weight` is [out, in] (PyTorch's layout), `x` is
 * [..., in] and `bias` [out]. The bias is added by the matmul kernel as it stores, so it costs no extra pass.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const autocasted = autocastCall(
    [x, weight, bias ?? null] as const,
    (xh, wh, bh) => linear(xh, wh, bh),
    [1, 2],
  );
  if (autocasted) return autocasted;
  commonFloatDtype('linear', [
    [x, 'input'],
    [weight, 'weight'],
    [bias ?? null, 'bias'],
  ]);
  if (weight.ndim !== 2) throw new RangeError(`linear: weight ${weight} must be 2-D [out, in]`);
  const [outFeatures, inFeatures] = weight.shape;
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inFeatures) {
    throw new RangeError(
      `linear: input ${formatShape(x.shape)} does not end in ${inFeatures} features (weight ${formatShape(weight.shape)})`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outFeatures)) {
    throw new RangeError(`linear: bias ${formatShape(bias.shape)} must be [${outFeatures}]`);
  }
  if (x.ndim !== 2) {
    const flat = reshape(x, [-1, inFeatures]);
    const y = linear(flat, weight, bias);
    const out = reshape(y, [...x.shape.slice(0, -1), outFeatures]);
    flat.dispose();
    y.dispose();
    return out;
  }
  const wt = t2(weight);
  const out = batchedGemm(x, wt, bias ?? undefined);
  wt.dispose();
  return recordOp(
    'linear',
    out,
    [x, weight, bias],
    (g, [sx, sw], needs) => {
      const grads: (Tensor | null)[] = [null, null, null];
      // dx = g · W; dW = gᵀ · x; db = column sums of g.
      if (needs[0]) grads[0] = batchedGemm(g, sw);
      if (needs[1]) {
        const gt = t2(g);
        grads[1] = batchedGemm(gt, sx);
        gt.dispose();
      }
      if (needs[2]) grads[2] = sumTo(g, [outFeatures]);
      return grads;
    },
    [x, weight],
  );
}
