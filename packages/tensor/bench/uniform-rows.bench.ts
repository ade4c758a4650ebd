// The uniform-rows matmul (src/ops/matmul/uniform-rows-kernel.ts) against the register-tiled one, alternately in
// one process: `npx tsx --conditions @nephron/source packages/tensor/bench/uniform-rows.bench.ts [--rounds R]`.
// Shapes: matmul 1024³ and the 1×1 conv 144→24 over 2×128² pixels as a batched product. Prints GFLOP per
// CPU-second (steadier than wall time on a shared software GPU) for each tile per round.
import { getEngine, init, Tensor, tensor } from '../src/index.js';
import { gemmInto, matmulFlops, matmulTuning } from '../src/ops/matmul/gemm.js';

const args = process.argv.slice(2);
const roundsArg = args.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 3;
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? args[onlyArg + 1] : undefined;

const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

interface Case {
  name: string;
  batch: number;
  m: number;
  k: number;
  n: number;
}

const CASES: Case[] = [
  { name: 'matmul 1024³', batch: 1, m: 1024, k: 1024, n: 1024 },
  { name: '1x1 144->24 2x128²', batch: 2, m: 24, k: 144, n: 128 * 128 },
];

type Choice = { label: string; uniform: boolean; tile?: { rows: number; lanes: number } };

const CHOICES: Choice[] = [
  { label: 'tiled', uniform: false },
  { label: 'rows 8', uniform: true, tile: { rows: 8, lanes: 64 } },
  { label: 'rows 16', uniform: true, tile: { rows: 16, lanes: 64 } },
  { label: 'rows 32', uniform: true, tile: { rows: 32, lanes: 64 } },
];

function use(c: Choice): void {
  matmulTuning.uniformRows = c.uniform;
  if (c.tile) matmulTuning.uniformRowsTile = c.tile;
}

async function time(run: () => void, minMs: number): Promise<{ wall: number; cpu: number; runs: number }> {
  const engine = getEngine();
  run();
  await engine.sync();
  let runs = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (runs < 2 || performance.now() - start < minMs) {
    run();
    await engine.sync();
    runs++;
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: (performance.now() - start) / runs, cpu: (cpu.user + cpu.system) / 1000 / runs, runs };
}

async function main(): Promise<void> {
  const engine = await init();
  console.log(`adapter: ${engine.gpu.info.description}`);
  for (const c of CASES.filter((c) => only === undefined || c.name.includes(only))) {
    const a = tensor(random(c.m * c.k), [c.m, c.k]);
    const av = a.asView([c.batch, c.m, c.k], [0, c.k, 1], 0);
    const b = tensor(random(c.batch * c.k * c.n), [c.batch, c.k, c.n]);
    const out = Tensor.empty([c.batch, c.m, c.n]);
    const flops = matmulFlops(c.batch, c.m, c.n, c.k);
    // Every choice must agree with the tiled kernel before it is timed.
    use(CHOICES[0]);
    gemmInto(av, b, out);
    const reference = await out.toArray();
    for (const choice of CHOICES.slice(1)) {
      use(choice);
      gemmInto(av, b, out);
      const got = await out.toArray();
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - reference[i]));
      if (worst > 1e-3)
        throw new Error(`${c.name} ${choice.label}: differs from the tiled kernel by ${worst}`);
    }
    for (let round = 0; round < rounds; round++) {
      const line: string[] = [];
      for (const choice of CHOICES) {
        use(choice);
        const t = await time(() => gemmInto(av, b, out), 1000);
        line.push(
          `${choice.label} ${(flops / t.cpu / 1e6).toFixed(2)} (${(flops / t.wall / 1e6).toFixed(2)} wall)`,
        );
      }
      console.log(`${c.name} round ${round + 1}: ${line.join(' | ')}`);
    }
    for (const t of [a, av, b, out]) t.dispose();
  }
  matmulTuning.uniformRows = 'auto';
  engine.destroy();
}

await main();
