// conv2d throughput on the current WebGPU adapter: `npx tsx packages/tensor/bench/conv.bench.ts [--sweep] [--seconds S]`.
// Prints GFLOP/s of the forward pass and of both backward products (input and weight gradients) for the layers
// issue 9 tracks; with --sweep, of every candidate GEMM tile too, so the defaults in src/ops/conv/conv2d.ts
// can be chosen from data. GFLOP/s count 2·multiply-adds of the direct convolution.
import { getEngine, init, Tensor, tensor } from '../src/index.js';
import { conv2dTuning } from '../src/ops/conv/conv-tuning.js';
import { conv2d } from '../src/ops/conv/conv2d.js';
import { conv2dGradInput, conv2dGradWeight } from '../src/ops/conv/conv2d-backward.js';
import type { DirectTile } from '../src/ops/conv/direct-kernel.js';
import type { GemmTile } from '../src/ops/conv/gemm-kernel.js';
import { type Conv2dOptions, conv2dFlops, convGeometry } from '../src/ops/conv/params.js';

const args = process.argv.slice(2);
const sweep = args.includes('--sweep');
const secondsArg = args.indexOf('--seconds');
const minSeconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 2;

interface Layer {
  name: string;
  x: number[];
  w: number[];
  options: Conv2dOptions;
}

const LAYERS: Layer[] = [
  { name: 'conv3x3 64→64 N=2×128²', x: [2, 64, 128, 128], w: [64, 64, 3, 3], options: { padding: 1 } },
  {
    name: 'depthwise5x5 C=336 N=2×64²',
    x: [2, 336, 64, 64],
    w: [336, 1, 5, 5],
    options: { padding: 2, groups: 336 },
  },
  { name: 'conv1x1 144→24 N=2×128²', x: [2, 144, 128, 128], w: [24, 144, 1, 1], options: {} },
];

const TILES: GemmTile[] = [
  { wgX: 16, wgY: 16, tm: 4, tn: 4, tk: 16 },
  { wgX: 16, wgY: 16, tm: 4, tn: 4, tk: 8 },
  { wgX: 16, wgY: 8, tm: 4, tn: 4, tk: 16 },
  { wgX: 8, wgY: 8, tm: 4, tn: 4, tk: 16 },
  { wgX: 16, wgY: 16, tm: 2, tn: 4, tk: 16 },
  { wgX: 32, wgY: 8, tm: 4, tn: 4, tk: 16 },
  { wgX: 16, wgY: 8, tm: 4, tn: 8, tk: 16 },
  { wgX: 8, wgY: 8, tm: 8, tn: 8, tk: 8 },
];

const DIRECT: DirectTile[] = [
  { wx: 64, tm: 8, tn: 2 },
  { wx: 64, tm: 8, tn: 1 },
  { wx: 64, tm: 12, tn: 1 },
  { wx: 64, tm: 16, tn: 1 },
  { wx: 64, tm: 6, tn: 2 },
  { wx: 32, tm: 4, tn: 4 },
  { wx: 128, tm: 12, tn: 1 },
];

const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** GFLOP/s of wall time and of this process's CPU time (meaningful on a software GPU sharing its cores). */
async function time(run: () => Tensor, flops: number): Promise<{ wall: number; cpu: number }> {
  const engine = getEngine();
  run().dispose();
  await engine.sync();
  let runs = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < minSeconds * 1000 || runs < 2) {
    run().dispose();
    await engine.sync();
    runs++;
    elapsed = performance.now() - start;
  }
  const cpu = process.cpuUsage(cpuStart);
  return {
    wall: (flops * runs) / (elapsed / 1000) / 1e9,
    cpu: (flops * runs) / ((cpu.user + cpu.system) / 1e6) / 1e9,
  };
}

async function main(): Promise<void> {
  const engine = await init();
  const info = engine.gpu.info;
  console.log(`adapter: ${info.vendor} ${info.device} ${info.description}`.trim());
  console.log('layer | pass | tile | GFLOP/s (wall) | GFLOP/s (cpu time)');
  for (const layer of LAYERS) {
    const x = tensor(random(count(layer.x)), layer.x);
    const w = tensor(random(count(layer.w)), layer.w);
    const b = tensor(random(layer.w[0]), [layer.w[0]]);
    const g = convGeometry(layer.x, layer.w, [layer.w[0]], layer.options);
    const dy = tensor(random(g.batch * g.cOut * g.oh * g.ow), [g.batch, g.cOut, g.oh, g.ow]);
    const flops = conv2dFlops(g);
    const passes: [string, () => Tensor][] = [
      ['forward', () => conv2d(x, w, b, layer.options)],
      ['grad input', () => conv2dGradInput(dy, w, g)],
      ['grad weight', () => conv2dGradWeight(dy, x, g)],
    ];
    const depthwise = layer.options.groups !== undefined && layer.options.groups > 1;
    const tiles: (GemmTile | null)[] = sweep && !depthwise ? [null, ...TILES] : [null];
    for (const tile of tiles) {
      conv2dTuning.tileOverride = tile;
      if (tile) conv2dTuning.strategy = 'tiled';
      for (const [pass, run] of passes) {
        const t = await time(run, flops);
        const name = depthwise
          ? 'depthwise'
          : tile
            ? `tiled ${tile.wgX}x${tile.wgY}:${tile.tm}x${tile.tn}x${tile.tk}`
            : 'default';
        console.log(`${layer.name} | ${pass} | ${name} | ${t.wall.toFixed(2)} | ${t.cpu.toFixed(2)}`);
      }
    }
    conv2dTuning.tileOverride = null;
    conv2dTuning.strategy = 'auto';
    if (sweep && !depthwise) {
      conv2dTuning.strategy = 'direct';
      for (const tile of DIRECT) {
        conv2dTuning.directOverride = tile;
        for (const [pass, run] of passes.slice(0, 2)) {
          const t = await time(run, flops);
          console.log(
            `${layer.name} | ${pass} | direct ${tile.wx}:${tile.tm}x${tile.tn} | ${t.wall.toFixed(2)} | ${t.cpu.toFixed(2)}`,
          );
        }
      }
      conv2dTuning.directOverride = null;
      conv2dTuning.strategy = 'auto';
    }
    for (const t of [x, w, b, dy]) t.dispose();
  }
  void Tensor;
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
