import { Generator, init, memoryStats, randn, relu, type Tensor, tidy } from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv2d } from '../layers/conv.js';
import { AdamW } from '../optim/adamw.js';

/**
 * Soak: many training steps of a small conv model (conv2d, relu, conv2d, mean loss, AdamW), sampling the
 * GPU bytes in use (memoryStats) and the process RSS every few steps. After warm-up both must stay flat:
 * GPU bytes in use may not grow at all (every step frees what it made), bytes held by the pool by at most
 * 1 MiB, and RSS by at most 64 MiB. CI runs 200 steps; `pnpm soak` runs NEPHRON_SOAK_STEPS (default 3000)
 * and prints the samples.
 */

const steps = Number(process.env.NEPHRON_SOAK_STEPS ?? 200);
const sampleEvery = Math.max(1, Math.floor(steps / 20));
// The first ~150 steps grow the JS heap and compile code; memory is judged after that.
const warmup = Math.max(100, Math.floor(steps / 10));
const MiB = 2 ** 20;
const bounds = { gpuInUse: 0, gpuAllocated: 1 * MiB, rss: 64 * MiB };

beforeAll(async () => {
  await init();
});

interface Sample {
  step: number;
  loss: number;
  gpuInUse: number;
  gpuAllocated: number;
  rss: number;
}

describe('soak: small conv model training', () => {
  it(`${steps} steps keep GPU memory and RSS flat after ${warmup} warm-up steps`, async () => {
    const g = new Generator(7);
    const conv1 = new Conv2d(3, 8, 3, { padding: 1, generator: g });
    const conv2 = new Conv2d(8, 1, 3, { padding: 1, generator: g });
    const params = [...conv1.parameters(), ...conv2.parameters()];
    const optimizer = new AdamW(params, { lr: 1e-3 });
    const x = randn([2, 3, 32, 32], { generator: g });

    const step = (): Tensor =>
      tidy(() => {
        optimizer.zeroGrad();
        const y = conv2.forward(relu(conv1.forward(x)));
        // Drive the output towards 0: the mean of its square, a loss that must fall.
        const loss = y.mul(y).mean();
        loss.backward();
        optimizer.step();
        return loss;
      });

    const samples: Sample[] = [];
    for (let s = 1; s <= steps; s++) {
      const loss = step();
      if (s % sampleEvery === 0 || s === warmup || s === 1) {
        const value = await loss.item();
        const stats = memoryStats();
        samples.push({
          step: s,
          loss: value,
          gpuInUse: stats.bytesInUse,
          gpuAllocated: stats.bytesAllocated,
          rss: process.memoryUsage().rss,
        });
      }
      loss.dispose();
    }

    const rows = samples.map(
      (r) =>
        `${String(r.step).padStart(6)}  ${r.loss.toExponential(3).padStart(10)}  ${String(r.gpuInUse).padStart(10)}  ` +
        `${String(r.gpuAllocated).padStart(12)}  ${(r.rss / MiB).toFixed(1).padStart(8)}`,
    );
    console.log(
      ['soak samples:', '  step        loss  gpuInUse B  gpuAllocated B    rss MiB', ...rows].join('\n'),
    );

    const base = samples.find((r) => r.step === warmup)!;
    const after = samples.filter((r) => r.step > warmup);
    expect(after.length).toBeGreaterThan(0);
    const growth = {
      gpuInUse: Math.max(...after.map((r) => r.gpuInUse)) - base.gpuInUse,
      gpuAllocated: Math.max(...after.map((r) => r.gpuAllocated)) - base.gpuAllocated,
      rss: Math.max(...after.map((r) => r.rss)) - base.rss,
    };
    console.log(`soak growth after warm-up: ${JSON.stringify(growth)} (bounds ${JSON.stringify(bounds)})`);
    expect(growth.gpuInUse).toBeLessThanOrEqual(bounds.gpuInUse);
    expect(growth.gpuAllocated).toBeLessThanOrEqual(bounds.gpuAllocated);
    expect(growth.rss).toBeLessThanOrEqual(bounds.rss);
    // The run trained: the loss fell.
    expect(samples[samples.length - 1].loss).toBeLessThan(samples[0].loss);
    conv1.dispose();
    conv2.dispose();
    x.dispose();
  });
});
