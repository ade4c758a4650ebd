import { tensor } from '../ops/creation.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { assertClose, type Tolerance } from './assert.js';
import { type CpuTensor, randomCpu } from './cpu-tensor.js';

export interface GradCheck {
  /** The op under test on the GPU. */
  gpu: (inputs: Tensor[]) => Tensor;
  /** Its float64 CPU reference. */
  cpu: (inputs: CpuTensor[]) => CpuTensor;
  inputs: CpuTensor[];
  /** Which inputs to differentiate (default: all). */
  wrt?: number[];
  forward?: Tolerance;
  backward?: Tolerance;
  /** Central-difference step in float64. */
  eps?: number;
  label?: string;
  seed?: number;
}

function weightedSum(out: CpuTensor, w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < out.data.length; i++) s += out.data[i] * w[i];
  return s;
}

/**
 * Checks an op three ways: GPU forward against the CPU reference, and GPU analytic gradients (of
 * sum(out · w) for a random w) against central finite differences of the CPU reference in float64.
 */
export async function checkOp(spec: GradCheck): Promise<void> {
  const label = spec.label ?? 'op';
  const wrt = spec.wrt ?? spec.inputs.map((_, i) => i);
  const expected = spec.cpu(spec.inputs);
  const w = randomCpu(expected.shape, spec.seed ?? 99).data;
  const gpuInputs = spec.inputs.map((x, i) =>
    tensor(Float32Array.from(x.data), x.shape, { requiresGrad: wrt.includes(i) }),
  );
  const out = tidy(() => spec.gpu(gpuInputs));
  try {
    if (out.shape.join() !== expected.shape.join()) {
      throw new Error(`${label}: output shape [${out.shape}], reference [${expected.shape}]`);
    }
    assertClose(
      await out.toArray(),
      expected.data,
      spec.forward ?? { rtol: 1e-5, atol: 1e-5 },
      `${label} forward`,
    );
    if (wrt.length === 0) return;
    tidy(() => {
      const loss = out.mul(tensor(Float32Array.from(w), expected.shape)).sum();
      loss.backward();
    });
    const eps = spec.eps ?? 1e-6;
    for (const i of wrt) {
      const x = spec.inputs[i];
      const numeric = new Float64Array(x.data.length);
      for (let j = 0; j < x.data.length; j++) {
        const saved = x.data[j];
        x.data[j] = saved + eps;
        const plus = weightedSum(spec.cpu(spec.inputs), w);
        x.data[j] = saved - eps;
        const minus = weightedSum(spec.cpu(spec.inputs), w);
        x.data[j] = saved;
        numeric[j] = (plus - minus) / (2 * eps);
      }
      const grad = gpuInputs[i].grad;
      if (!grad) throw new Error(`${label}: input ${i} received no gradient`);
      assertClose(
        await grad.toArray(),
        numeric,
        spec.backward ?? { rtol: 1e-3, atol: 1e-4 },
        `${label} grad of input ${i}`,
      );
    }
  } finally {
    out.dispose();
    for (const t of gpuInputs) t.dispose();
  }
}
