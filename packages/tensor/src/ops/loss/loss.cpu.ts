import type { CpuTensor } from '../../testing/cpu-tensor.js';
import type { Reduction } from './class-loss.js';

export interface CpuLossOptions {
  ignoreIndex?: number;
  reduction?: Reduction;
  weight?: readonly number[];
}

/**
 * Float64 reference of cross entropy (`logits` raw) or NLL (`logits` already log-probabilities) over [N, C, ...]
 * input and [N, ...] class-index targets.
 */
export function cpuClassLoss(
  kind: 'ce' | 'nll',
  input: CpuTensor,
  target: readonly number[],
  { ignoreIndex = -100, reduction = 'mean', weight }: CpuLossOptions = {},
): CpuTensor {
  const [N, C] = input.shape;
  const S = input.data.length / (N * C);
  const losses = new Float64Array(N * S);
  let counted = 0;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const p = n * S + s;
      const t = target[p];
      if (t === ignoreIndex) continue;
      const row = Array.from({ length: C }, (_, c) => input.data[(n * C + c) * S + s]);
      let logp = row[t];
      if (kind === 'ce') {
        const m = Math.max(...row);
        logp -= m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
      }
      const w = weight ? weight[t] : 1;
      losses[p] = -w * logp;
      counted += w;
    }
  }
  if (reduction === 'none') return { data: losses, shape: [N, ...input.shape.slice(2)] };
  const total = losses.reduce((a, b) => a + b, 0);
  return { data: Float64Array.of(reduction === 'sum' ? total : total / counted), shape: [] };
}
