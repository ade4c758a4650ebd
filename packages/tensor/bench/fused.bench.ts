// Fused elementwise chains against the unfused ops on the current WebGPU adapter:
// `npx tsx packages/tensor/bench/fused.bench.ts`. Each row is milliseconds per call (forward, or forward and
// backward), this process's CPU milliseconds per call (on a software GPU, which runs in this process, that
// figure holds up when other work competes for the cores) and the bytes held for backward after the forward.
import { getEngine, init, memoryStats, type Tensor, tensor, tidy } from '../src/index.js';
import { add, mul } from '../src/ops/elementwise/binary.js';
import { relu, sigmoid, silu } from '../src/ops/elementwise/unary.js';
import { batchNormAct } from '../src/ops/fused/batch-norm-act.js';
import { biasAct } from '../src/ops/fused/bias-act.js';
import { seGate } from '../src/ops/fused/se-gate.js';
import { batchNorm2d } from '../src/ops/norm/batch-norm.js';

await init();
const engine = getEngine();
const random = (shape: number[], requiresGrad = false) =>
  tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1),
    shape,
    { requiresGrad },
  );

async function time(name: string, run: () => void): Promise<void> {
  run();
  await engine.sync();
  let runs = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (performance.now() - start < 1500 || runs < 3) {
    run();
    await engine.sync();
    runs++;
  }
  const ms = (performance.now() - start) / runs;
  const cpu = process.cpuUsage(cpuStart);
  console.log(
    `${name.padEnd(56)} ${ms.toFixed(2).padStart(9)} ms ${((cpu.user + cpu.system) / 1000 / runs).toFixed(2).padStart(9)} CPU ms`,
  );
}

/** Bytes the graph holds for backward once the forward is done (output excluded). */
function savedBytes(forward: () => Tensor): number {
  const before = memoryStats().bytesInUse;
  const y = forward();
  const held = memoryStats().bytesInUse - before - y.numel() * 4;
  y.dispose();
  return held;
}

const shape = [8, 32, 64, 64];
const C = shape[1];
const x = random(shape, true);
const w = random([C], true);
const b = random([C], true);
const gy = random(shape);
const MiB = 1024 * 1024;
for (const activation of ['silu', 'relu'] as const) {
  const fused = () => batchNormAct(x, null, null, w, b, activation, { training: true });
  const unfused = () =>
    tidy(() => {
      const y = batchNorm2d(x, null, null, w, b, { training: true });
      return activation === 'silu' ? silu(y) : relu(y);
    });
  for (const [label, forward] of [
    ['fused', fused],
    ['unfused', unfused],
  ] as const) {
    await time(`batchNorm + ${activation} [${shape}] forward (${label})`, () => forward().dispose());
    await time(`batchNorm + ${activation} [${shape}] forward + backward (${label})`, () =>
      tidy(() => {
        forward().backward(gy);
        for (const t of [x, w, b]) t.zeroGrad();
      }),
    );
    console.log(`  held for backward: ${(savedBytes(forward) / MiB).toFixed(2)} MiB`);
  }
}

const s = random([shape[0], C, 1, 1], true);
for (const [label, forward] of [
  ['fused', () => seGate(x, s)],
  ['unfused', () => tidy(() => mul(sigmoid(s), x))],
] as const) {
  await time(`SE gate x·sigmoid(s) [${shape}] forward (${label})`, () => forward().dispose());
  await time(`SE gate x·sigmoid(s) [${shape}] forward + backward (${label})`, () =>
    tidy(() => {
      forward().backward(gy);
      for (const t of [x, s]) t.zeroGrad();
    }),
  );
}

// The epilogue of a conv with its batch norm folded in, at inference.
const bias = random([C]);
const biasView = bias.view([1, C, 1, 1]);
for (const [label, forward] of [
  ['fused', () => biasAct(x, bias, 'silu')],
  ['unfused', () => tidy(() => silu(add(x, biasView)))],
] as const) {
  await time(`bias + silu [${shape}] forward (${label})`, () => forward().dispose());
}
