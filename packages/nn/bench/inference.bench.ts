// UNet inference with and without batch norm folded into the convs, in one process on the current adapter:
// `npx tsx --conditions @nephron/source packages/nn/bench/inference.bench.ts [b4 2 128]`. Each row: milliseconds
// per forward (after a warm-up that compiles the kernels), this process's CPU milliseconds (on a software GPU
// the kernels run in this process) and the peak GPU bytes the forward adds to the weights.
import { getEngine, memoryStats, noGrad, type Tensor, tidy } from '@nephron/tensor';
import { fuseForInference } from '../src/models/fuse.js';
import { benchUnet, MiB } from './unet-input.js';

const { model, x, batch, size, variant } = await benchUnet();
const engine = getEngine();
model.eval();

async function row(label: string, forward: (x: Tensor) => Tensor): Promise<void> {
  const run = async () => {
    const y = noGrad(() => tidy(() => forward(x)));
    await y.toArray();
    y.dispose();
  };
  await run();
  const before = memoryStats().bytesInUse;
  engine.pool.peakBytesInUse = before;
  let runs = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (performance.now() - start < 3000 || runs < 3) {
    await run();
    runs++;
  }
  const ms = (performance.now() - start) / runs;
  const cpu = process.cpuUsage(cpuStart);
  const peak = memoryStats().peakBytesInUse - before;
  console.log(
    `UNet-${variant} eval ${batch}×${size}² ${label.padEnd(28)} ${ms.toFixed(1).padStart(9)} ms` +
      ` ${((cpu.user + cpu.system) / 1000 / runs).toFixed(1).padStart(9)} CPU ms  peak +${(peak / MiB).toFixed(1)} MiB`,
  );
}

await row('unfused (conv, BN+act)', (t) => model.forward(t));
const fused = fuseForInference(model);
await row('BN folded (conv, bias+act)', fused.forward);
fused.dispose();
model.dispose();
x.dispose();
