// The adapter's arithmetic ceiling and what a buffer read costs against it:
// `npx tsx --conditions @nephron/source packages/tensor/bench/peak.bench.ts [--seconds S] [--lanes L]`.
// Every invocation runs a long loop of independent vec4 multiply-adds on registers ('none': no memory traffic but
// one store at the end), so that figure is what the compiler and the cores can do at best; kernel rows in
// `nephron bench kernels` read as a fraction of it. The other rows add reads to every iteration; the time they
// add over 'none' is the reads' cost. GFLOP/s count 2 per multiply-add per vec4 component, as the kernel
// benchmarks do. Figures measured on llvmpipe are in docs/performance.md.

import type { Kernel } from '../src/engine/kernel.js';
import { UNIFORMS_WGSL } from '../src/engine/kernel.js';
import { getEngine, init, Tensor } from '../src/index.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const minSeconds = arg('--seconds', 2);

/** Where each iteration's multiplier comes from. */
type Load =
  | 'none'
  | 'lane'
  | 'uniform'
  | 'lane f32'
  | 'uniform f32'
  | 'workgroup'
  | 'uniform buffer'
  | 'one per chain'
  | 'one, subgroup broadcast'
  | 'lane, uniform buffer';

/**
 * `chains` independent vec4 accumulators hide the multiply-add latency. With `straight`, the iterations are
 * unrolled into straight-line code (a compile-time count, no loop): what the same arithmetic costs without
 * llvmpipe's per-iteration loop masking. (Straight-line variants with reads took over ten minutes to compile.)
 */
function peakKernel(lanes: number, chains: number, load: Load = 'none', straight = 0): Kernel {
  const range = Array.from({ length: chains }, (_, i) => i);
  // With a load, each iteration's multiplier comes from a buffer: at an address of each lane's own ('lane') or
  // one address for the whole workgroup ('uniform'); the time over the load-free kernel is the load's cost.
  const multiplier = {
    none: 'a',
    lane: 'src[(gid.x + i * 64u) & 4095u]',
    uniform: 'src[(wid.x + i * 64u) & 4095u]',
    'lane f32': 'vec4<f32>(src1[(gid.x + i * 64u) & 16383u])',
    'uniform f32': 'vec4<f32>(src1[(wid.x + i * 64u) & 16383u])',
    workgroup: `tile[(lid.x + i) & ${lanes - 1}u]`,
    'uniform buffer': 'vec4<f32>(uf(1u + (i & 1u)))',
    'one per chain': 'a',
    'one, subgroup broadcast': 'a',
    'lane, uniform buffer': 'ub[(gid.x + i * 64u) & 4095u]',
  }[load];
  // The last two give each chain its own multiplier: a float32 load per chain, or one load per lane whose
  // value lane c broadcasts to the subgroup for chain c (8 lanes per subgroup on llvmpipe's 256-bit build).
  const perChain = (c: number) =>
    load === 'one per chain'
      ? `vec4<f32>(src1[(gid.x + i * 64u + ${c * 8}u) & 16383u])`
      : load === 'one, subgroup broadcast'
        ? `vec4<f32>(subgroupBroadcast(s, ${c % 8}u))`
        : 'm';
  const perIteration =
    load === 'one, subgroup broadcast' ? '    let s = src1[(gid.x + i * 64u) & 16383u];\n' : '';
  const f32Source = load.endsWith('f32') || load.startsWith('one');
  const body = `    let m = ${multiplier};
${perIteration}${range.map((c) => `    c${c} = fma(c${c}, ${perChain(c)}, b);`).join('\n')}
`;
  const code = `${load === 'one, subgroup broadcast' ? 'enable subgroups;\n' : ''}${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
${
  // The same per-lane read as 'lane', from a 64 KiB uniform buffer: llvmpipe gathers it without per-lane branches.
  load === 'lane, uniform buffer'
    ? '@group(0) @binding(2) var<uniform> ub: array<vec4<f32>, 4096>;'
    : `@group(0) @binding(2) var<storage, read> ${f32Source ? 'src1: array<f32>' : 'src: array<vec4<f32>>'};`
}
var<workgroup> tile: array<vec4<f32>, ${lanes}>;

@compute @workgroup_size(${lanes})
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  tile[lid.x] = vec4<f32>(uf(1u));
  workgroupBarrier();
  // Operands come from the uniforms and the lane id so the compiler can fold nothing away.
  let a = vec4<f32>(uf(1u), uf(2u), uf(1u), uf(2u)) + vec4<f32>(f32(gid.x) * 1e-9);
  let b = vec4<f32>(uf(2u), uf(1u), uf(2u), uf(1u));
${range.map((i) => `  var c${i} = vec4<f32>(f32(${i}) * 1e-3);`).join('\n')}
${
  straight > 0
    ? Array.from({ length: straight }, (_, it) => `  {\n    let i = ${it}u;\n${body}  }`).join('\n')
    : `  let iterations = ui(0u);\n  for (var i = 0u; i < iterations; i++) {\n${body}  }`
}
  // One read of src keeps its binding in the load-free kernel too.
  out[gid.x] = ${range.map((i) => `c${i}`).join(' + ')} + ${load === 'lane, uniform buffer' ? 'ub[0]' : f32Source ? 'vec4<f32>(src1[0])' : 'src[0]'};
}`;
  const source = load === 'lane, uniform buffer' ? 'uniform' : 'read';
  return { name: `peak_${lanes}x${chains}_${load}_${straight}`, code, bindings: ['read_write', source] };
}

const fillKernel: Kernel = {
  name: 'peak_fill',
  code: `${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) { dst[gid.x] = vec4<f32>(uf(0u)); }`,
  bindings: ['read_write'],
};

async function main(): Promise<void> {
  const engine = await init();
  const info = engine.gpu.info;
  console.log(`adapter: ${info.vendor} ${info.device} ${info.description}`.trim());
  const loopIterations = 4096;
  const lanes = arg('--lanes', 64);
  // 'none' first and last: the spread between the two is the machine's noise.
  const configs: { chains: number; load: Load; straight?: number }[] = [
    { chains: 8, load: 'none' },
    { chains: 16, load: 'none' },
    { chains: 8, load: 'none', straight: 256 },
    { chains: 8, load: 'lane' },
    { chains: 8, load: 'uniform' },
    { chains: 8, load: 'lane f32' },
    { chains: 8, load: 'uniform f32' },
    { chains: 8, load: 'workgroup' },
    { chains: 8, load: 'uniform buffer' },
    { chains: 8, load: 'one per chain' },
    { chains: 8, load: 'one, subgroup broadcast' },
    // Two chains: the read's cost stands out against few multiply-adds (compare with 'none' at two chains).
    { chains: 2, load: 'none' },
    { chains: 2, load: 'lane' },
    { chains: 2, load: 'workgroup' },
    { chains: 2, load: 'lane, uniform buffer' },
    { chains: 8, load: 'none' },
  ];
  // Multipliers near 1 keep every value finite over any number of iterations.
  const src = Tensor.empty([4096 * 4]);
  getEngine().dispatch(fillKernel, [src.storage.buffer], [{ f: 0.999999 }], [64]);
  for (const { chains, load, straight = 0 } of configs) {
    if (load === 'one, subgroup broadcast' && !engine.device.features.has('subgroups')) continue;
    // Tensor buffers can be bound as uniform buffers on llvmpipe only (engine.ts).
    if (load === 'lane, uniform buffer' && !info.isLlvmpipe) continue;
    const kernel = peakKernel(lanes, chains, load, straight);
    const iterations = straight > 0 ? straight : loopIterations;
    // Enough workgroups to keep every core busy several times over.
    const groups = straight > 0 ? 1024 : 64;
    const out = Tensor.empty([groups * lanes * 4]);
    // a ≈ 1, b ≈ 0: values stay finite over any number of iterations.
    const uniforms = [loopIterations, { f: 0.999999 }, { f: 1e-7 }];
    const source =
      load === 'lane, uniform buffer' ? { buffer: src.storage.buffer, size: 65536 } : src.storage.buffer;
    const run = () => getEngine().dispatch(kernel, [out.storage.buffer, source], uniforms, [groups]);
    run();
    await engine.sync();
    let runs = 0;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    let elapsed = 0;
    while (elapsed < minSeconds * 1000 || runs < 2) {
      run();
      await engine.sync();
      runs++;
      elapsed = performance.now() - start;
    }
    const cpu = process.cpuUsage(cpuStart);
    const flops = groups * lanes * iterations * chains * 4 * 2 * runs;
    const wall = flops / (elapsed / 1000) / 1e9;
    const perCpu = flops / ((cpu.user + cpu.system) / 1e6) / 1e9;
    console.log(
      `${lanes} lanes × ${chains} vec4 chains, load ${load}${straight > 0 ? `, ${straight} unrolled` : ', loop'}: ${wall.toFixed(1)} GFLOP/s (${perCpu.toFixed(1)} GFLOP per CPU-second)`,
    );
    out.dispose();
  }
  src.dispose();
  engine.destroy();
}

await main();
