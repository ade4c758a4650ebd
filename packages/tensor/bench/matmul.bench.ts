// Matmul throughput on the current WebGPU adapter: `npx tsx packages/tensor/bench/matmul.bench.ts [--sweep] [--size N]`.
// Prints GFLOP/s of a square N³ matmul (default 1024) with the tiling the op picks and, with --sweep, of every
// candidate tiling, so the choices in src/ops/matmul/gemm.ts come from data. On a software GPU shared with other
// work, compare the "per CPU-second" figures: wall time then also measures the other processes.
import { getEngine, init, Tensor, tensor } from '../src/index.js';
import { gemmInto, matmulFlops, setMatmulTiling } from '../src/ops/matmul/gemm.js';
import type { MatmulTiling } from '../src/ops/matmul/matmul-kernel.js';

const args = process.argv.slice(2);
const sizeArg = args.indexOf('--size');
const size = sizeArg >= 0 ? Number(args[sizeArg + 1]) : 1024;
const sweep = args.includes('--sweep');

interface Timing {
  /** GFLOP per second of wall time. */
  wall: number;
  /** GFLOP per second of CPU time this process used: on a software GPU this stays meaningful when other
   * processes compete for the cores. */
  cpu: number;
}

async function timeMatmul(a: Tensor, b: Tensor, out: Tensor, minSeconds: number): Promise<Timing> {
  const engine = getEngine();
  gemmInto(a, b, out);
  await engine.sync();
  let runs = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < minSeconds * 1000 || runs < 2) {
    gemmInto(a, b, out);
    await engine.sync();
    runs++;
    elapsed = performance.now() - start;
  }
  const cpu = process.cpuUsage(cpuStart);
  const flops = matmulFlops(1, size, size, size) * runs;
  return { wall: flops / (elapsed / 1000) / 1e9, cpu: flops / ((cpu.user + cpu.system) / 1e6) / 1e9 };
}

async function main(): Promise<void> {
  const engine = await init();
  const info = engine.gpu.info;
  console.log(`adapter: ${info.vendor} ${info.device} ${info.description}`.trim());
  const random = () => Float32Array.from({ length: size * size }, () => Math.random() * 2 - 1);
  const a = tensor(random(), [size, size]);
  const b = tensor(random(), [size, size]);
  const out = Tensor.empty([size, size]);
  const candidates: (MatmulTiling | null)[] = sweep
    ? [
        null,
        { tm: 16, tn: 16, wx: 8, wy: 8, bk: 8 },
        { tm: 16, tn: 16, wx: 8, wy: 8, bk: 16 },
        { tm: 32, tn: 16, wx: 8, wy: 4, bk: 8 },
        { tm: 8, tn: 8, wx: 8, wy: 8, bk: 8 },
        { tm: 8, tn: 8, wx: 16, wy: 16, bk: 8 },
        { tm: 4, tn: 4, wx: 8, wy: 8, bk: 8 },
        { tm: 4, tn: 4, wx: 16, wy: 16, bk: 8 },
      ]
    : [null];
  for (const tiling of candidates) {
    setMatmulTiling(tiling);
    const t = await timeMatmul(a, b, out, sweep ? 2 : 5);
    console.log(
      `matmul ${size}³ ${tiling ? JSON.stringify(tiling) : 'default'}: ${t.wall.toFixed(2)} GFLOP/s ` +
        `(${t.cpu.toFixed(2)} GFLOP per CPU-second)`,
    );
  }
  setMatmulTiling(null);
  for (const t of [a, b, out]) t.dispose();
  engine.destroy();
}

await main();
