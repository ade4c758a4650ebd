// Forward conv kernel variants timed alternately in one process, so a busy shared machine slows all of them alike:
// `npx tsx --conditions @nephron/source packages/tensor/bench/forward-variants.bench.ts [--rounds R] [--only TEXT]`.
// Each variant is checked against the first one's output before timing. Prints GFLOP per CPU-second (and wall
// GFLOP/s) per round; the defaults in src/ops/conv/conv-tuning.ts come from these figures.
import { getEngine, init, type Tensor, tensor } from '../src/index.js';
import type { BlockTile } from '../src/ops/conv/block-kernel.js';
import { conv2dTuning } from '../src/ops/conv/conv-tuning.js';
import { conv2d } from '../src/ops/conv/conv2d.js';
import type { DirectTile } from '../src/ops/conv/direct-kernel.js';
import { type Conv2dOptions, conv2dFlops, convGeometry } from '../src/ops/conv/params.js';
import { matmulTuning } from '../src/ops/matmul/gemm.js';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const rounds = Number(arg('--rounds') ?? 3);
const seconds = Number(arg('--seconds') ?? 1);
const only = arg('--only');

interface Layer {
  name: string;
  x: number[];
  w: number[];
  options: Conv2dOptions;
}

const LAYERS: Layer[] = [
  { name: 'conv3x3 64→64 N=2×128²', x: [2, 64, 128, 128], w: [64, 64, 3, 3], options: { padding: 1 } },
  { name: 'conv1x1 144→24 N=2×128²', x: [2, 144, 128, 128], w: [24, 144, 1, 1], options: {} },
];

interface Variant {
  label: string;
  /** Which layers it serves (all when absent). */
  kernel?: number;
  apply: () => void;
}

function reset(): void {
  conv2dTuning.block = false;
  conv2dTuning.blockOverride = null;
  conv2dTuning.directOverride = null;
  conv2dTuning.pointwiseForward = false;
  matmulTuning.uniformRowsTile = { rows: 8, lanes: 64 };
}

const direct = (t: DirectTile, kernel?: number): Variant => ({
  label: `direct ${JSON.stringify(t)}`,
  kernel,
  apply: () => {
    reset();
    conv2dTuning.directOverride = t;
  },
});

const uniformRows = (rows: number, lanes: number): Variant => ({
  label: `uniform rows ${rows}x${lanes}`,
  kernel: 1,
  apply: () => {
    reset();
    conv2dTuning.pointwiseForward = true;
    matmulTuning.uniformRowsTile = { rows, lanes };
  },
});

const block = (t: BlockTile, kernel?: number): Variant => ({
  label: `block ${t.channels}x${t.rows}x${t.cols}/${t.wx}`,
  kernel,
  apply: () => {
    reset();
    conv2dTuning.block = true;
    conv2dTuning.blockOverride = t;
  },
});

const VARIANTS: Variant[] = [
  direct({ wx: 32, tm: 8, tn: 8 }),
  block({ wx: 32, channels: 8, rows: 2, cols: 8 }, 3),
  block({ wx: 32, channels: 4, rows: 2, cols: 8 }, 3),
  uniformRows(8, 64),
  block({ wx: 32, channels: 12, rows: 1, cols: 16 }, 1),
  block({ wx: 32, channels: 24, rows: 1, cols: 8 }, 1),
  block({ wx: 32, channels: 8, rows: 1, cols: 16 }, 1),
];

const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

async function time(run: () => Tensor, minMs: number): Promise<{ wall: number; cpu: number }> {
  const engine = getEngine();
  run().dispose();
  await engine.sync();
  let runs = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (runs < 2 || performance.now() - start < minMs) {
    run().dispose();
    await engine.sync();
    runs++;
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: (performance.now() - start) / runs, cpu: (cpu.user + cpu.system) / 1000 / runs };
}

async function main(): Promise<void> {
  const engine = await init();
  console.log(`adapter: ${engine.gpu.info.description}`);
  for (const layer of LAYERS) {
    const variants = VARIANTS.filter(
      (v) =>
        v === VARIANTS[0] ||
        ((only === undefined || v.label.includes(only)) &&
          (v.kernel === undefined || v.kernel === layer.w[2])),
    );
    if (variants.length < 2) continue;
    const x = tensor(random(count(layer.x)), layer.x);
    const w = tensor(random(count(layer.w)), layer.w);
    const flops = conv2dFlops(convGeometry(layer.x, layer.w, null, layer.options));
    const run = () => conv2d(x, w, null, layer.options);
    variants[0].apply();
    const reference = await run().toArray();
    for (const v of variants.slice(1)) {
      v.apply();
      const y = run();
      const got = await y.toArray();
      y.dispose();
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - reference[i]));
      if (worst > 1e-3)
        throw new Error(`${layer.name} ${v.label}: differs from ${variants[0].label} by ${worst}`);
    }
    for (let round = 0; round < rounds; round++) {
      const line: string[] = [];
      for (const v of variants) {
        v.apply();
        const t = await time(run, seconds * 1000);
        line.push(`${v.label} ${(flops / t.cpu / 1e6).toFixed(2)} (${(flops / t.wall / 1e6).toFixed(2)})`);
      }
      console.log(`${layer.name} #${round + 1}: ${line.join(' | ')}`);
    }
    x.dispose();
    w.dispose();
  }
  reset();
  conv2dTuning.block = 'auto';
  engine.destroy();
}

await main();
