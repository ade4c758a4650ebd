import type { CpuTensor } from '../../testing/cpu-tensor.js';

export interface CpuBatchNorm {
  output: CpuTensor;
  runningMean: number[];
  runningVar: number[];
}

/**
 * Float64 reference of batch norm over dim 1 of [N, C, ...]: batch statistics (biased variance) in training,
 * running ones in eval; running statistics updated with the unbiased variance.
 */
export function cpuBatchNorm(
  x: CpuTensor,
  runningMean: readonly number[],
  runningVar: readonly number[],
  weight: readonly number[] | null,
  bias: readonly number[] | null,
  training: boolean,
  momentum: number,
  eps: number,
): CpuBatchNorm {
  const [N, C] = x.shape;
  const S = x.data.length / (N * C);
  const n = N * S;
  const out = new Float64Array(x.data.length);
  const newMean = [...runningMean];
  const newVar = [...runningVar];
  for (let c = 0; c < C; c++) {
    const values: number[] = [];
    for (let b = 0; b < N; b++) for (let s = 0; s < S; s++) values.push(x.data[(b * C + c) * S + s]);
    let mean = runningMean[c];
    let variance = runningVar[c];
    if (training) {
      mean = values.reduce((a, v) => a + v, 0) / n;
      const m2 = values.reduce((a, v) => a + (v - mean) ** 2, 0);
      variance = m2 / n;
      newMean[c] = (1 - momentum) * runningMean[c] + momentum * mean;
      newVar[c] = (1 - momentum) * runningVar[c] + (momentum * m2) / (n - 1);
    }
    const invstd = 1 / Math.sqrt(variance + eps);
    for (let b = 0; b < N; b++) {
      for (let s = 0; s < S; s++) {
        const at = (b * C + c) * S + s;
        out[at] = (x.data[at] - mean) * invstd * (weight ? weight[c] : 1) + (bias ? bias[c] : 0);
      }
    }
  }
  return { output: { data: out, shape: [...x.shape] }, runningMean: newMean, runningVar: newVar };
}
