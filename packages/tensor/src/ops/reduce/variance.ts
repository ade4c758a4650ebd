import { isFloat } from '../../dtype.js';
import { normalizeDims } from '../../shape.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import { applyKeepdim, broadcastBack } from './keepdim.js';
import { reduce } from './reduce.js';

/**
 * Mean and variance over `dims` in one read of the data (Welford per thread, Chan's formula across threads and
 * workgroups), shaped as the kept dims. The variance divides by n − correction.
 */
export function moments(
  x: Tensor,
  dims: readonly number[],
  correction: number,
  varianceDtype: 'float32' | 'float16' = 'float32',
): { mean: Tensor; variance: Tensor } {
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const [mean, variance] = reduce({
    name: 'moments',
    monoid: 'welford',
    inputs: [x],
    dims,
    outputs: [
      { dtype: 'float32', expr: 's.mean' },
      { dtype: varianceDtype, expr: 's.m2 * uf(4u)' },
    ],
    // n ≤ correction gives inf or NaN, as PyTorch does.
    scale: 1 / (n - correction),
  });
  return { mean, variance };
}

function varianceOrStd(
  x: Tensor,
  dim: number | readonly number[] | undefined,
  unbiased: boolean,
  keepdim: boolean,
  root: boolean,
): Tensor {
  const name = root ? 'std' : 'var';
  if (!isFloat(x.dtype)) throw new TypeError(`${name} needs a floating tensor, got ${x}`);
  const dims = normalizeDims(dim, x.ndim, x.toString());
  const correction = unbiased ? 1 : 0;
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const dtype = x.dtype === 'float16' ? 'float16' : 'float32';
  const m = moments(x, dims, correction, dtype);
  let value = m.variance;
  if (root) {
    value = map([m.variance], { name: 'sqrt', expr: 'sqrt(a0)', outDtype: dtype });
    m.variance.dispose();
  }
  const out = applyKeepdim(value, x.shape, dims, keepdim);
  const meanKept = applyKeepdim(m.mean, x.shape, dims, true);
  const shape = x.shape;
  const scale = 1 / (n - correction);
  const result = recordOp(
    name,
    out,
    [x],
    (g, [sx, mu, y]) => {
      const gb = broadcastBack(g, shape, dims);
      const yb = broadcastBack(y, shape, dims);
      // d var / dx = 2 (x − mean) / (n − c); d std = d var / (2 std).
      const expr = root ? 'a0 * (a1 - a2) * uf(S+0u) / a3' : '2.0 * a0 * (a1 - a2) * uf(S+0u)';
      const gx = map([gb, sx, mu, yb], {
        name: `${name}_backward`,
        expr,
        outDtype: g.dtype,
        scalars: [{ f: scale }],
      });
      gb.dispose();
      yb.dispose();
      return [gx];
    },
    [x, meanKept, out],
  );
  meanKept.dispose();
  return result;
}

/** Variance over `dim` (all dims when omitted), like `torch.var(x, dim, unbiased, keepdim)`. */
export function variance(
  x: Tensor,
  dim?: number | readonly number[],
  unbiased = true,
  keepdim = false,
): Tensor {
  return varianceOrStd(x, dim, unbiased, keepdim, false);
}

/** Standard deviation, like `torch.std(x, dim, unbiased, keepdim)`. */
export function std(x: Tensor, dim?: number | readonly number[], unbiased = true, keepdim = false): Tensor {
  return varianceOrStd(x, dim, unbiased, keepdim, true);
}
