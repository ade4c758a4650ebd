import { getEngine } from '../../engine/engine.js';
import type { DirectTile } from './direct-kernel.js';
import { type GemmTile, tileKey } from './gemm-kernel.js';

// How conv2d picks its kernels and tiles per shape and adapter; benchmarks and tests override them here.

/**
 * Register tiles per GEMM shape. A 64×64 tile suits wide layers; layers with few rows (1×1 projections to 24
 * channels, the first conv's 3 input channels in gradInput) would waste most of it, so narrower-M tiles trade
 * rows for columns. `tileOverride` lets the benchmark try others.
 */
export const conv2dTuning: {
  tileOverride: GemmTile | null;
  directOverride: DirectTile | null;
  /** 'auto': the direct kernels on software (CPU) adapters, workgroup-memory tiles elsewhere. */
  strategy: 'auto' | 'tiled' | 'direct';
  partialTarget: number;
  /** Plans batch chunks for this binding size instead of the device's (tests use it on small tensors). */
  maxBindingBytes: number | null;
  /** Runs eligible 1×1 weight gradients as batched matmuls (pointwise.ts); off, they take the implicit GEMM. */
  pointwise: boolean;
  /** The depthwise row kernels (depthwise-rows.ts): 'auto' runs them on llvmpipe only, see `useDepthwiseRows`. */
  depthwiseRows: 'auto' | boolean;
  /** Direct kernels broadcast weights over the subgroup: 'auto' on llvmpipe only, see `useSubgroupWeights`. */
  subgroupWeights: 'auto' | boolean;
  /** 3×3 weight gradients through the subgroup kernel (grad-weight-3x3.ts) where the device and shape allow. */
  gradWeightSubgroups: 'auto' | boolean;
} = {
  gradWeightSubgroups: 'auto',
  subgroupWeights: 'auto',
  depthwiseRows: 'auto',
  maxBindingBytes: null,
  pointwise: true,
  tileOverride: null,
  directOverride: null,
  strategy: 'auto',
  /** Workgroups a split reduction aims for: enough to fill the device, few enough to keep partials small. */
  partialTarget: 128,
};

export function chooseTile(m: number): GemmTile {
  if (conv2dTuning.tileOverride) return conv2dTuning.tileOverride;
  if (m <= 8) return { wgX: 32, wgY: 4, tm: 2, tn: 4, tk: 16 };
  if (m <= 16) return { wgX: 64, wgY: 4, tm: 4, tn: 4, tk: 16 };
  if (m <= 32) return { wgX: 32, wgY: 8, tm: 4, tn: 4, tk: 16 };
  return { wgX: 16, wgY: 16, tm: 4, tn: 4, tk: 16 };
}

/**
 * The row kernels were written for llvmpipe and measured there (2–7× the tiled depthwise kernels). Chromium's
 * SwiftShader runs them far slower: a UNet-B0 forward on one 64² tile in the page took 140 s with them and 13 s
 * without (apps/cli/src/browser/commands.test.ts, 2026-11-27). On real GPUs they are unmeasured, and one
 * workgroup per channel plane leaves a GPU mostly idle, so everywhere else the tiled kernels run.
 */
export function useDepthwiseRows(): boolean {
  if (conv2dTuning.depthwiseRows !== 'auto') return conv2dTuning.depthwiseRows;
  return isLlvmpipe();
}

function isLlvmpipe(): boolean {
  return getEngine().gpu.info.isLlvmpipe;
}

/**
 * Measured on lavapipe, same process back to back: an 8×8 register block per lane (8 channels × 8 pixels, 16
 * loads per 64 multiply-adds) beat 4×8 by about 1.5× on 3×3 64→64 (stride 1 and 2); over 32 lanes it ran 10-20%
 * faster than over 16 (2.33 vs 1.96 and 2.81 vs 2.56 GFLOP per CPU-second in alternating runs), and 64 lanes no
 * faster than 32. Bigger blocks (16×16) take minutes to compile there.
 */
export function chooseDirectTile(): DirectTile {
  return conv2dTuning.directOverride ?? { wx: 32, tm: 8, tn: 8 };
}

/**
 * The weight gradient always runs tiled (its long k is split across workgroups). On llvmpipe fewer threads with
 * bigger register blocks measured about twice as fast (bench/conv.bench.ts --sweep). SwiftShader (Chromium's CPU
 * WebGPU) compiles this kernel's register blocks far worse: on this machine a 4×8 block took over 10 GB and
 * minutes to compile and Chromium's GPU process died of it, losing the page's device mid-training; 4×4 took a
 * minute, 2×2 a third of a second (Node on Chromium's libvk_swiftshader.so, 2026-11-27). There it gets 2×2.
 */
export function chooseGradWeightTile(m: number): GemmTile {
  if (conv2dTuning.tileOverride) return chooseTile(m);
  const { isSoftware } = getEngine().gpu.info;
  if (isSoftware && !isLlvmpipe()) return { wgX: 16, wgY: 16, tm: 2, tn: 2, tk: 16 };
  if (!isSoftware) return chooseTile(m);
  return m <= 32 ? { wgX: 16, wgY: 8, tm: 4, tn: 8, tk: 16 } : { wgX: 8, wgY: 8, tm: 8, tn: 8, tk: 8 };
}

/**
 * The depthwise input-gradient kernel unrolls a bounds and stride test per tap. SwiftShader compiles the strided
 * form of it for minutes (a 5×5 stride-2 one ran past five minutes in Node on Chromium's libvk_swiftshader.so,
 * 2026-11-27), so there strided depthwise layers take the implicit GEMM, whose kernels the dense layers compile
 * anyway.
 */
export function useDepthwiseGradInput(strided: boolean): boolean {
  if (!strided) return true;
  return !getEngine().gpu.info.isSoftware || isLlvmpipe();
}

/**
 * Whether the direct kernels read each weight once per subgroup and broadcast it (direct-kernel.ts). Measured on
 * llvmpipe only, whose subgroups are its 8 (or 16) SIMD lanes, as wide as the 8 channels a workgroup shares; a
 * device without the `subgroups` feature never takes it, and forcing it on needs subgroups of at least `tm` lanes.
 */
export function useSubgroupWeights(): boolean {
  if (!getEngine().device.features.has('subgroups')) return false;
  if (conv2dTuning.subgroupWeights !== 'auto') return conv2dTuning.subgroupWeights;
  return isLlvmpipe();
}

export function useDirect(): boolean {
  if (conv2dTuning.strategy !== 'auto') return conv2dTuning.strategy === 'direct';
  return getEngine().gpu.info.isSoftware;
}

/**
 * Tiles the autotuner may time for forward and input-gradient GEMMs on this adapter. All of them sum k in the
 * same order as the heuristic's choice, so tuning changes speed only.
 */
export function directCandidates(): DirectTile[] {
  return [
    { wx: 32, tm: 8, tn: 8 },
    { wx: 16, tm: 8, tn: 8 },
    { wx: 64, tm: 8, tn: 8 },
  ];
}

export function tiledCandidates(m: number): GemmTile[] {
  const tiles = [
    chooseTile(m),
    { wgX: 16, wgY: 16, tm: 4, tn: 4, tk: 16 },
    { wgX: 16, wgY: 8, tm: 4, tn: 8, tk: 16 },
    { wgX: 32, wgY: 8, tm: 4, tn: 4, tk: 16 },
  ];
  return tiles.filter((t, i) => tiles.findIndex((u) => tileKey(u) === tileKey(t)) === i);
}
