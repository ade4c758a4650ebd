// Reductions, softmax, cross entropy and batch norm on the current WebGPU adapter:
// `npx tsx packages/tensor/bench/reduce.bench.ts`. Prints milliseconds per call, GB/s of the bytes each op must
// read and write at least once, and this process's CPU milliseconds per call (on a software GPU, which runs in
// this process, that figure stays meaningful when other work competes for the cores). The batch-norm statistics
// row also runs the one-thread-per-channel layout (what a naive reduction does) for comparison.
import { getEngine, init, type Tensor, tensor } from '../src/index.js';
import { crossEntropy } from '../src/ops/loss/cross-entropy.js';
import { batchNorm2d } from '../src/ops/norm/batch-norm.js';
import { reduce } from '../src/ops/reduce/reduce.js';
import { sum } from '../src/ops/reduce/sum.js';
import { softmax } from '../src/ops/softmax/softmax.js';

await init();
const engine = getEngine();
const random = (shape: number[]) =>
  tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1),
    shape,
  );

async function time(name: string, bytes: number, run: () => Tensor | Tensor[] | void): Promise<void> {
  const dispose = (r: Tensor | Tensor[] | void) => {
    for (const t of Array.isArray(r) ? r : r ? [r] : []) t.dispose();
  };
  dispose(run());
  await engine.sync();
  let runs = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (performance.now() - start < 1500 || runs < 3) {
    dispose(run());
    await engine.sync();
    runs++;
  }
  const ms = (performance.now() - start) / runs;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000 / runs;
  console.log(
    `${name.padEnd(52)} ${ms.toFixed(2).padStart(9)} ms ${(bytes / ms / 1e6).toFixed(2).padStart(8)} GB/s` +
      ` ${cpuMs.toFixed(2).padStart(9)} CPU ms`,
  );
}

const bn = [8, 32, 128, 128];
const bnBytes = bn.reduce((a, b) => a * b, 1) * 4;
const x = random(bn);
const dims = [0, 2, 3];
for (const layout of ['group', 'thread'] as const) {
  await time(`batch-norm statistics [${bn}] (${layout} layout)`, bnBytes, () =>
    reduce({
      name: 'moments',
      monoid: 'welford',
      inputs: [x],
      dims,
      outputs: [
        { dtype: 'float32', expr: 's.mean' },
        { dtype: 'float32', expr: 's.m2' },
      ],
      layout,
    }),
  );
}
await time(`sum of all [${bn}]`, bnBytes, () => sum(x));
await time(`sum over dim 0 of [${bn}]`, bnBytes * 1.125, () => sum(x, 0));
const rm = tensor(new Float32Array(32), [32]);
const rv = tensor(new Float32Array(32).fill(1), [32]);
const w = random([32]).requiresGrad_();
const b = random([32]).requiresGrad_();
const xg = random(bn).requiresGrad_();
await time(`batchNorm2d training forward [${bn}]`, bnBytes * 3, () =>
  batchNorm2d(x, rm, rv, w, b, { training: true }),
);
const gy = random(bn);
await time(`batchNorm2d training forward + backward [${bn}]`, bnBytes * 8, () => {
  const y = batchNorm2d(xg, rm, rv, w, b, { training: true });
  y.backward(gy);
  y.dispose();
  for (const t of [xg, w, b]) t.zeroGrad();
});
const seg = [8, 2, 256, 256];
const logits = random(seg).requiresGrad_();
const segBytes = seg.reduce((a, c) => a * c, 1) * 4;
await time(`softmax over dim 1 of [${seg}]`, segBytes * 2, () => softmax(logits, 1));
const rows = random([4096, 1000]);
await time('softmax over dim 1 of [4096, 1000]', 4096 * 1000 * 8, () => softmax(rows, 1));
const target = tensor(
  Int32Array.from({ length: 8 * 256 * 256 }, () => (Math.random() < 0.5 ? 0 : 1)),
  [8, 256, 256],
);
await time(`crossEntropy forward + backward [${seg}]`, segBytes * 3, () => {
  const loss = crossEntropy(logits, target);
  loss.backward();
  loss.dispose();
  logits.zeroGrad();
});
