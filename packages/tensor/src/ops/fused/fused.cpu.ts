import type { CpuTensor } from '../../testing/cpu-tensor.js';
import { cpuBatchNorm } from '../norm/batch-norm.cpu.js';
import type { FusedActivation } from './activation.js';

/** Float64 activation, the reference of the fused kernels' epilogue. */
export function cpuActivate(activation: FusedActivation, z: number): number {
  switch (activation) {
    case 'identity':
      return z;
    case 'relu':
      return Math.max(z, 0);
    case 'silu':
      return z / (1 + Math.exp(-z));
  }
}

/** Float64 reference of `act(batchNorm(x))`: the batch-norm reference, then the activation. */
export function cpuBatchNormAct(
  x: CpuTensor,
  runningMean: readonly number[],
  runningVar: readonly number[],
  weight: readonly number[] | null,
  bias: readonly number[] | null,
  activation: FusedActivation,
  training: boolean,
  momentum: number,
  eps: number,
) {
  const bn = cpuBatchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps);
  const data = bn.output.data.map((z) => cpuActivate(activation, z));
  return { ...bn, output: { data, shape: bn.output.shape } };
}

/** Float64 reference of the SE gate `x · sigmoid(s)` for x [N, C, H, W] and s [N, C, 1, 1]. */
export function cpuSeGate(x: CpuTensor, s: CpuTensor): CpuTensor {
  const [N, C] = x.shape;
  const S = x.data.length / (N * C);
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) data[i] = x.data[i] / (1 + Math.exp(-s.data[Math.floor(i / S)]));
  return { data, shape: [...x.shape] };
}

/** Float64 reference of `act(x + bias[c])` over [N, C, ...]. */
export function cpuBiasAct(x: CpuTensor, bias: CpuTensor, activation: FusedActivation): CpuTensor {
  const [N, C] = x.shape;
  const S = x.data.length / (N * C);
  const data = x.data.map((v, i) => cpuActivate(activation, v + bias.data[Math.floor(i / S) % C]));
  return { data, shape: [...x.shape] };
}
