import { autotuner, sizeClass, type TuneJob } from '../../engine/autotune.js';
import { getEngine } from '../../engine/engine.js';
import type { Kernel, UniformValue } from '../../engine/kernel.js';
import { formatShape, numel } from '../../shape.js';
import { Tensor } from '../../tensor.js';
import { zeros } from '../creation.js';
import { bindingBudget } from '../elementwise/binding-range.js';
import { type BoundView, bindView, type GemmLaunch, splitGemm } from './gemm-split.js';
import {
  buildMatmulKernel,
  MATMUL_BATCH_RANK,
  type MatmulTiling,
  type MatmulVariant,
  tileShape,
  U,
} from './matmul-kernel.js';
import { eightLaneSubgroups, panelGemm, usePanelMatmul } from './panel-gemm.js';

interface TilingChoice {
  tiling: MatmulTiling;
  /** Relative throughput on a large matmul, measured with bench/matmul.bench.ts. */
  speed: number;
}

/**
 * CPU adapters (lavapipe) run a workgroup as SIMD lanes of one thread and pay a scalar load per lane for every
 * value read from a buffer or workgroup memory, so the biggest register blocks win even though their
 * accumulators spill: 16×16 outputs per thread measured 4.6 GFLOP per CPU-second at 1024³ against 3.1 for 8×8
 * and ~1.5 for 4×4 (bench/matmul.bench.ts --sweep, on 2 shared cores, so ±20%). Smaller tiles only pay off on
 * small matrices, where a big tile would mostly compute padding.
 */
const SOFTWARE_TILINGS: TilingChoice[] = [
  { tiling: { tm: 16, tn: 16, wx: 8, wy: 8, bk: 8 }, speed: 4.6 },
  { tiling: { tm: 8, tn: 8, wx: 8, wy: 8, bk: 8 }, speed: 3.1 },
  { tiling: { tm: 4, tn: 4, wx: 8, wy: 8, bk: 8 }, speed: 1.5 },
];

/** GPUs: the classic 128×128 tile of 8×8 blocks over 256 threads, and smaller tiles to fill the GPU on small matrices. */
const GPU_TILINGS: TilingChoice[] = [
  { tiling: { tm: 8, tn: 8, wx: 16, wy: 16, bk: 8 }, speed: 1 },
  { tiling: { tm: 4, tn: 4, wx: 16, wy: 16, bk: 8 }, speed: 0.7 },
  { tiling: { tm: 4, tn: 4, wx: 8, wy: 8, bk: 8 }, speed: 0.4 },
];

/**
 * Picks the tiling with the least estimated time: work rounded up to whole tiles, divided by the tiling's speed,
 * and, when there are fewer workgroups than the device can run at once, charged for the idle ones.
 */
export function chooseTiling(m: number, n: number, batches: number, software: boolean): MatmulTiling {
  const choices = software ? SOFTWARE_TILINGS : GPU_TILINGS;
  const parallel = software ? 2 : 128;
  let best = choices[0];
  let bestCost = Number.POSITIVE_INFINITY;
  for (const choice of choices) {
    const { bm, bn } = tileShape(choice.tiling);
    const groups = Math.ceil(m / bm) * Math.ceil(n / bn) * batches;
    const waves = Math.ceil(groups / parallel);
    const cost = (waves * bm * bn) / choice.speed;
    if (cost < bestCost) {
      best = choice;
      bestCost = cost;
    }
  }
  return best.tiling;
}

/**
 * What the autotuner times: the heuristic's tilings, plus 4×8 blocks on GPUs. (A taller 32×16 block measured no
 * faster than 16×16 on lavapipe and compiles far slower, so CPU adapters keep the three.) Every tiling sums k in
 * the same order, so the choice changes speed only.
 */
function tuningCandidates(software: boolean): MatmulTiling[] {
  if (software) return SOFTWARE_TILINGS.map((c) => c.tiling);
  return [...GPU_TILINGS.map((c) => c.tiling), { tm: 4, tn: 8, wx: 16, wy: 16, bk: 8 }];
}

export function tilingKey(t: MatmulTiling): string {
  return `${t.tm}x${t.tn}:${t.wx}x${t.wy}:${t.bk}`;
}

/** The tiling for this product: forced, tuned for this adapter, or the heuristic's estimate. */
function tilingFor(m: number, n: number, k: number, batches: number, software: boolean): MatmulTiling {
  if (tilingOverride) return tilingOverride;
  const fallback = chooseTiling(m, n, batches, software);
  const job: TuneJob<MatmulTiling> = {
    op: 'matmul',
    shapeClass: `${sizeClass(m)}x${sizeClass(n)}x${sizeClass(k)}:${sizeClass(batches)}`,
    candidates: tuningCandidates(software),
    key: tilingKey,
    prepare: () => {
      // One batch stands for all: the choice is about the tile, and timing must stay short.
      const a = zeros([m, k]);
      const b = zeros([k, n]);
      const out = Tensor.empty([m, n]);
      return {
        run: (tiling) => {
          gemmInto(a, b, out, undefined, tiling);
        },
        dispose: () => {
          for (const t of [a, b, out]) t.dispose();
        },
      };
    },
  };
  return autotuner.choose(job, fallback);
}

let tilingOverride: MatmulTiling | null = null;

/** Subgroup reads of A (matmul-kernel.ts): 'auto' on llvmpipe's 256-bit build only, see {@link useSubgroupA}. */
export const matmulTuning: { subgroupA: 'auto' | boolean } = { subgroupA: 'auto' };

/**
 * The subgroup read of A assumes subgroups of exactly 8 consecutive threads ({@link eightLaneSubgroups}), where
 * it was measured; other devices keep one read per thread.
 */
export function useSubgroupA(): boolean {
  if (!getEngine().device.features.has('subgroups')) return false;
  if (matmulTuning.subgroupA !== 'auto') return matmulTuning.subgroupA;
  return eightLaneSubgroups();
}

/** Forces a tiling (for benchmarks and tuning); null restores the default. */
export function setMatmulTiling(tiling: MatmulTiling | null): void {
  tilingOverride = tiling;
}

const kernels = new Map<string, Kernel>();

function kernelFor(variant: MatmulVariant): Kernel {
  const key = JSON.stringify(variant);
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = buildMatmulKernel(variant);
    kernels.set(key, kernel);
  }
  return kernel;
}

interface BatchLayout {
  shape: number[];
  a: number[];
  b: number[];
  out: number[];
}

/**
 * Merges batch dims that every operand steps through as one (stride[d] = stride[d+1]·size[d+1]), and drops size-1
 * dims, so most batches fit the kernel's four batch dims.
 */
function foldBatch(layout: BatchLayout): BatchLayout {
  const dims: { size: number; a: number; b: number; out: number }[] = [];
  for (let d = 0; d < layout.shape.length; d++) {
    const cur = { size: layout.shape[d], a: layout.a[d], b: layout.b[d], out: layout.out[d] };
    if (cur.size === 1) continue;
    const prev = dims[dims.length - 1];
    if (
      prev &&
      prev.a === cur.a * cur.size &&
      prev.b === cur.b * cur.size &&
      prev.out === cur.out * cur.size
    ) {
      prev.size *= cur.size;
      prev.a = cur.a;
      prev.b = cur.b;
      prev.out = cur.out;
    } else {
      dims.push(cur);
    }
  }
  return {
    shape: dims.map((d) => d.size),
    a: dims.map((d) => d.a),
    b: dims.map((d) => d.b),
    out: dims.map((d) => d.out),
  };
}

function padFront(values: readonly number[], fill: number): number[] {
  return [...new Array<number>(MATMUL_BATCH_RANK - values.length).fill(fill), ...values];
}

/**
 * The raw kernel launch: out[..., M, N] = a[..., M, K] · b[..., K, N] (+ bias[N]). `a`, `b` and `out` must have
 * the same batch shape (broadcast operands come in as stride-0 views); any strides are fine for `a` and `b`,
 * and `out` must have unit column stride. Returns false when the batch dims cannot be folded to four, so the
 * caller can materialise its operands and retry.
 */
export function gemmInto(
  a: Tensor,
  b: Tensor,
  out: Tensor,
  bias?: Tensor,
  forcedTiling?: MatmulTiling,
): boolean {
  const r = out.ndim;
  if (a.ndim !== r || b.ndim !== r || r < 2) {
    throw new Error(`gemm: operands of ranks ${a.ndim}, ${b.ndim} and output of rank ${r} do not line up`);
  }
  const [m, k] = a.shape.slice(r - 2);
  const n = b.shape[r - 1];
  if (b.shape[r - 2] !== k || out.shape[r - 2] !== m || out.shape[r - 1] !== n) {
    throw new Error(
      `gemm: ${formatShape(a.shape)} · ${formatShape(b.shape)} does not give ${formatShape(out.shape)}`,
    );
  }
  if (out.strides[r - 1] !== 1 && n > 1) throw new Error('gemm: the output needs unit column stride');
  // All float32, or all float16 (half storage, float32 accumulation).
  const operands = [a, b, out, ...(bias ? [bias] : [])];
  const half = operands.every((t) => t.dtype === 'float16');
  for (const t of operands) {
    if (t.dtype !== 'float32' && !half) {
      throw new TypeError(`matmul supports float32 tensors, or float16 throughout; got ${t}`);
    }
  }
  const batch = foldBatch({
    shape: out.shape.slice(0, r - 2),
    a: a.strides.slice(0, r - 2),
    b: b.strides.slice(0, r - 2),
    out: out.strides.slice(0, r - 2),
  });
  if (batch.shape.length > MATMUL_BATCH_RANK) return false;
  const batches = numel(batch.shape);
  if (m === 0 || n === 0 || batches === 0) return true;
  const launch: GemmLaunch = (pa, pb, po, pbias, bind) => launchGemm(pa, pb, po, pbias, bind, forcedTiling);
  const limit = bindingBudget(getEngine());
  if (operands.some((t) => t.storage.buffer.size > limit)) {
    // Cut in the folded layout, where any narrowing still leaves at most MATMUL_BATCH_RANK batch dims.
    const folded = (t: Tensor, strides: number[]) =>
      t.asView([...batch.shape, ...t.shape.slice(r - 2)], [...strides, ...t.strides.slice(r - 2)], t.offset);
    const views = [folded(a, batch.a), folded(b, batch.b), folded(out, batch.out)];
    splitGemm(views[0], views[1], views[2], bias, launch);
    for (const v of views) v.dispose();
    return true;
  }
  if (!half && !forcedTiling && !tilingOverride && batches === 1 && usePanelMatmul(a, m, n, k)) {
    panelGemm(a, b, out, bias);
    return true;
  }
  launch(a, b, out, bias, bindView);
  return true;
}

/**
 * One product through the tiled kernel, each operand read through `bind` (its whole buffer, or a window of it
 * with the view's offset inside the window). The batch dims must fold to at most MATMUL_BATCH_RANK.
 */
function launchGemm(
  a: Tensor,
  b: Tensor,
  out: Tensor,
  bias: Tensor | undefined,
  bind: (t: Tensor) => BoundView,
  forcedTiling?: MatmulTiling,
): void {
  const r = out.ndim;
  const [m, k] = a.shape.slice(r - 2);
  const n = b.shape[r - 1];
  const batch = foldBatch({
    shape: out.shape.slice(0, r - 2),
    a: a.strides.slice(0, r - 2),
    b: b.strides.slice(0, r - 2),
    out: out.strides.slice(0, r - 2),
  });
  const batches = numel(batch.shape);
  const engine = getEngine();
  const tiling = forcedTiling ?? tilingFor(m, n, k, batches, engine.gpu.info.isSoftware);
  const [va, vb, vout] = [bind(a), bind(b), bind(out)];
  const vbias = bias && bind(bias);
  const aligned = (offset: number, strides: readonly number[]) =>
    offset % 4 === 0 && strides.every((s) => s % 4 === 0);
  const vecA = a.strides[r - 1] === 1 && k % 4 === 0 && aligned(va.offset, [a.strides[r - 2], ...batch.a]);
  const vecB = b.strides[r - 1] === 1 && n % 4 === 0 && aligned(vb.offset, [b.strides[r - 2], ...batch.b]);
  const subgroupA = tiling.wx === 8 && tiling.tm % 8 === 0 && useSubgroupA();
  const kernel = kernelFor({
    tiling,
    bias: bias !== undefined,
    vecA,
    vecB,
    elem: a.dtype === 'float16' ? 'f16' : 'f32',
    ...(subgroupA ? { subgroupA } : {}),
  });
  const { bm, bn } = tileShape(tiling);
  const maxGroups = engine.device.limits.maxComputeWorkgroupsPerDimension;
  const gx = Math.ceil(n / bn);
  const gy = Math.ceil(m / bm);
  if (gx > maxGroups || gy > maxGroups) {
    throw new RangeError(`matmul of ${formatShape(out.shape)} needs more workgroups than the device allows`);
  }
  const buffers = [va.binding, vb.binding];
  if (vbias) buffers.push(vbias.binding);
  buffers.push(vout.binding);
  for (let start = 0; start < batches; start += maxGroups) {
    const words: UniformValue[] = new Array<UniformValue>(U.outBatchStrides + MATMUL_BATCH_RANK).fill(0);
    words[U.m] = m;
    words[U.n] = n;
    words[U.k] = k;
    words[U.aOffset] = va.offset;
    words[U.aRowStride] = a.strides[r - 2];
    words[U.aColStride] = a.strides[r - 1];
    words[U.bOffset] = vb.offset;
    words[U.bRowStride] = b.strides[r - 2];
    words[U.bColStride] = b.strides[r - 1];
    words[U.outOffset] = vout.offset;
    words[U.outRowStride] = out.strides[r - 2];
    words[U.batchStart] = start;
    words[U.biasOffset] = vbias?.offset ?? 0;
    words[U.biasStride] = bias?.strides[0] ?? 0;
    const put = (at: number, values: number[]) => {
      for (let i = 0; i < values.length; i++) words[at + i] = values[i];
    };
    put(U.batchShape, padFront(batch.shape, 1));
    put(U.aBatchStrides, padFront(batch.a, 0));
    put(U.bBatchStrides, padFront(batch.b, 0));
    put(U.outBatchStrides, padFront(batch.out, 0));
    engine.dispatch(kernel, buffers, words, [gx, gy, Math.min(maxGroups, batches - start)]);
  }
}

/** Multiply-adds of a matmul counted as 2 FLOPs each, for benchmark rows. */
export function matmulFlops(batch: number, m: number, n: number, k: number): number {
  return 2 * batch * m * n * k;
}
