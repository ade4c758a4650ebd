import { isFloat } from '../../dtype.js';
import { recordOp, type Tensor } from '../../tensor.js';
import { runRows } from './row-kernel.js';

function checkFloat(x: Tensor, what: string): void {
  if (!isFloat(x.dtype)) throw new TypeError(`${what} needs a floating tensor, got ${x}`);
}

/** exp(x − max) / Σ exp(x − max) along `dim`, like `torch.softmax`; one fused kernel. */
export function softmax(x: Tensor, dim: number): Tensor {
  checkFloat(x, 'softmax');
  const y = runRows([x], dim, { name: 'softmax', stat: 'lse', value: 'a0', write: 'exp(a0 - m) / s' });
  return recordOp(
    'softmax',
    y,
    [x],
    // dx = y · (g − Σ g·y)
    (g, [sy]) => [
      runRows([g, sy], dim, {
        name: 'softmax_backward',
        stat: 'sum',
        value: 'a0 * a1',
        write: 'a1 * (a0 - t)',
      }),
    ],
    [y],
  );
}

/** x − max − log Σ exp(x − max) along `dim`, like `torch.logSoftmax`; one fused kernel. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  checkFloat(x, 'logSoftmax');
  const y = runRows([x], dim, { name: 'log_softmax', stat: 'lse', value: 'a0', write: 'a0 - m - log(s)' });
  return recordOp(
    'logSoftmax',
    y,
    [x],
    // dx = g − exp(y) · Σ g
    (g, [sy]) => [
      runRows([g, sy], dim, {
        name: 'log_softmax_backward',
        stat: 'sum',
        value: 'a0',
        write: 'a0 - exp(a1) * t',
      }),
    ],
    [y],
  );
}
