import {
  autotuner,
  conv2d,
  conv2dGradInput,
  conv2dGradWeight,
  convGeometry,
  keep,
  matmul,
  randn,
  settleAutotune,
  type Tensor,
  tidy,
} from '@nephron/tensor';
import { loadTfjs, type Tfjs } from './tfjs.js';
import { syncOurs, timeAlternating, timeGpu } from './timing.js';

/** One row of `nephron bench kernels`: GFLOP/s of ours and of tfjs-webgpu on the same adapter, and their ratio. */
export interface KernelRow {
  name: string;
  ours_gflops: number;
  tfjs_gflops: number | null;
  ratio: number | null;
  ours_ms: number;
  tfjs_ms: number | null;
  /** Which of our kernel variants ran (op and tile), as the autotuner or the heuristic chose it. */
  variant: string | null;
}

interface ConvCase {
  name: string;
  n: number;
  c: number;
  h: number;
  w: number;
  cout: number;
  k: number;
  groups: number;
}

/** The kernel rows the issue asks for: the shapes EfficientNet-B4 + UNet spend their time in. */
export const CONV_CASES: ConvCase[] = [
  { name: 'conv2d 3x3 64->64 N=2x128²', n: 2, c: 64, h: 128, w: 128, cout: 64, k: 3, groups: 1 },
  { name: 'depthwise 5x5 C=336 N=2x64²', n: 2, c: 336, h: 64, w: 64, cout: 336, k: 5, groups: 336 },
  { name: 'conv2d 1x1 144->24 N=2x128²', n: 2, c: 144, h: 128, w: 128, cout: 24, k: 1, groups: 1 },
];

function convFlops(c: ConvCase): number {
  return 2 * c.n * c.h * c.w * c.cout * (c.c / c.groups) * c.k * c.k;
}

const gflops = (flops: number, ms: number) => flops / ms / 1e6;

/** The kernel variants the ops chose since the last call (cleared after reading). */
function variants(): string | null {
  const used = [...autotuner.last].map(([op, key]) => `${op} ${key}`);
  autotuner.last.clear();
  return used.length > 0 ? used.join(', ') : null;
}

function row(name: string, flops: number, ours: number, tfjs: number | null): KernelRow {
  return {
    variant: variants(),
    name,
    ours_gflops: gflops(flops, ours),
    tfjs_gflops: tfjs === null ? null : gflops(flops, tfjs),
    ratio: tfjs === null ? null : tfjs / ours,
    ours_ms: ours,
    tfjs_ms: tfjs,
  };
}

export interface KernelBenchOptions {
  /** Compare with tfjs-webgpu (a dev dependency); rows get null tfjs figures when it is absent or disabled. */
  tfjs?: boolean;
  minMs?: number;
  /** Only the rows whose name contains this text (a quick check, or the one row being tuned). */
  rows?: string;
  /**
   * End each run by reading the result back (both sides) instead of waiting for the GPU queue to drain. The
   * transfer then counts against the kernel: on the software GPU an 11 MB readback takes about 10 ms, half the
   * time of the depthwise row itself.
   */
  readback?: boolean;
  onRow?: (row: KernelRow) => void;
}

export async function benchKernels(options: KernelBenchOptions = {}): Promise<KernelRow[]> {
  const minMs = options.minMs ?? 1000;
  const tf: Tfjs | null = options.tfjs === false ? null : await loadTfjs();
  const rows: KernelRow[] = [];
  const wanted = (name: string) => options.rows === undefined || name.includes(options.rows);
  const add = (r: KernelRow) => {
    rows.push(r);
    options.onRow?.(r);
  };
  // Each run ends the same way on both sides: the GPU queue drained (engine sync; tfjs submits and waits), or,
  // with `readback`, the result read back.
  const readback = options.readback ?? false;
  const oursRunner = (f: () => Tensor) => async () => {
    const out = tidy(() => keep(f()));
    if (readback) await out.toArray();
    else await syncOurs();
    out.dispose();
  };
  const settle = async (f: () => Tensor) => {
    // With tuning on (NEPHRON_AUTOTUNE=1), a first call queues the tuning of its shape class: let it finish
    // before the clock starts, so the rows time the tuned kernels.
    if (autotuner.enabled) {
      tidy(() => keep(f())).dispose();
      await settleAutotune();
    }
    autotuner.last.clear();
  };
  const timeOurs = async (f: () => Tensor) => {
    await settle(f);
    return (await timeGpu(oursRunner(f), syncOurs, minMs)).ms;
  };
  // Rows with a tfjs figure time the two sides in alternation (timing.ts), so the ratio compares like conditions.
  const timeBoth = async (
    f: () => Tensor,
    theirs: (() => unknown) | null,
  ): Promise<[number, number | null]> => {
    if (!tf || !theirs) return [await timeOurs(f), null];
    await settle(f);
    return timeAlternating(oursRunner(f), tf.runner(theirs, readback), minMs);
  };

  if (wanted('matmul 1024³')) {
    const n = 1024;
    const a = randn([n, n]);
    const b = randn([n, n]);
    const [ours, theirs] = await timeBoth(() => matmul(a, b), tf && (() => tf.matMul([n, n], [n, n])));
    add(row('matmul 1024³', 2 * n ** 3, ours, theirs));
    a.dispose();
    b.dispose();
  }

  for (const c of CONV_CASES) {
    const names = ['forward', 'backward input', 'backward weight'].map((pass) => `${c.name} ${pass}`);
    if (!names.some(wanted)) continue;
    const flops = convFlops(c);
    const pad = (c.k - 1) / 2;
    const x = randn([c.n, c.c, c.h, c.w]);
    const w = randn([c.cout, c.c / c.groups, c.k, c.k]);
    const options = { padding: pad, groups: c.groups };
    if (wanted(names[0])) {
      const [ours, theirs] = await timeBoth(() => conv2d(x, w, null, options), tf && (() => tf.conv2d(c)));
      add(row(names[0], flops, ours, theirs));
    }
    // The backward kernels are timed directly, one gradient each, as autograd calls them.
    const dy = randn([c.n, c.cout, c.h, c.w]);
    const g = convGeometry(x.shape, w.shape, null, options);
    if (wanted(names[1])) {
      const input = await timeOurs(() => conv2dGradInput(dy, w, g));
      add(row(names[1], flops, input, null));
    }
    if (wanted(names[2])) {
      const weight = await timeOurs(() => conv2dGradWeight(dy, x, g));
      add(row(names[2], flops, weight, null));
    }
    for (const t of [x, w, dy]) t.dispose();
  }
  tf?.dispose();
  return rows;
}

export function formatKernelRows(rows: readonly KernelRow[]): string {
  const fmt = (v: number | null, digits = 2) => (v === null ? '—' : v.toFixed(digits));
  const lines = [
    `${'kernel'.padEnd(48)} ${'ours GFLOP/s'.padStart(12)} ${'tfjs GFLOP/s'.padStart(12)} ${'ratio'.padStart(7)}`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.name.padEnd(48)} ${fmt(r.ours_gflops).padStart(12)} ${fmt(r.tfjs_gflops).padStart(12)} ${fmt(r.ratio).padStart(7)}`,
    );
  }
  return lines.join('\n');
}
