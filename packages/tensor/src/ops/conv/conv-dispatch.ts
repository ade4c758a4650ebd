import { autotuner, sizeClass, type TuneJob } from '../../engine/autotune.js';
import { getEngine } from '../../engine/engine.js';
import { kernelCache, type UniformValue } from '../../engine/kernel.js';
import { Tensor } from '../../tensor.js';
import { zeros } from '../creation.js';
import { bindingLimit } from './batch-chunks.js';
import {
  chooseDirectTile,
  chooseGradWeightTile,
  chooseTile,
  conv2dTuning,
  directCandidates,
  tiledCandidates,
  useDirect,
  useSubgroupWeights,
} from './conv-tuning.js';
import { conv2dForward } from './conv2d.js';
import { conv2dGradInput } from './conv2d-backward.js';
import type { DepthwiseShape } from './depthwise-kernel.js';
import { buildDirectKernel, directKey } from './direct-kernel.js';
import { buildGemmKernel, type GemmMode, tileKey, U } from './gemm-kernel.js';
import type { ConvGeometry } from './params.js';
import { isPointwise, pixelsMerge } from './pointwise.js';
import { REDUCE_WG, reducePartialsKernel } from './reduce-kernel.js';

// Kernel cache, uniforms and dispatch of the GEMM/direct/depthwise convolution kernels shared by forward and backward.

export const cached = kernelCache();

/** The shared uniform block: geometry plus operand A and B as (offset, 4 strides). */
export function uniforms(
  g: ConvGeometry,
  a: Tensor | null,
  b: Tensor | null,
  extra: Partial<Record<keyof typeof U, number>> = {},
  bias: Tensor | null = null,
): UniformValue[] {
  const u: UniformValue[] = new Array<UniformValue>(U.outOffset + 1).fill(0);
  u[U.batch] = g.batch;
  u[U.cIn] = g.cIn;
  u[U.h] = g.h;
  u[U.w] = g.w;
  u[U.cOut] = g.cOut;
  u[U.oh] = g.oh;
  u[U.ow] = g.ow;
  u[U.strideH] = g.strideH;
  u[U.strideW] = g.strideW;
  u[U.padTop] = { i: g.padTop };
  u[U.padLeft] = { i: g.padLeft };
  u[U.dilationH] = g.dilationH;
  u[U.dilationW] = g.dilationW;
  u[U.cInG] = g.cInG;
  u[U.cOutG] = g.cOutG;
  u[U.groups] = g.groups;
  if (a) {
    u[U.aOffset] = a.offset;
    for (let d = 0; d < 4; d++) u[U.aStrides + d] = a.strides[d];
  }
  if (b) {
    u[U.bOffset] = b.offset;
    for (let d = 0; d < 4; d++) u[U.bStrides + d] = b.strides[d];
  }
  if (bias) {
    u[U.biasOffset] = bias.offset;
    u[U.biasStride] = bias.strides[0];
  }
  for (const [key, value] of Object.entries(extra)) u[U[key as keyof typeof U]] = value;
  return u;
}

/** A tuning job for one forward or input-gradient shape class; it times one image, whatever the batch. */
export function convJob<T>(
  mode: 'forward' | 'gradInput',
  g: ConvGeometry,
  dims: { m: number; n: number; k: number },
  family: 'direct' | 'tiled',
  candidates: T[],
  key: (t: T) => string,
  force: (t: T | null) => void,
): TuneJob<T> {
  return {
    op: `conv2d.${mode}.${family}`,
    shapeClass: [
      `${g.kh}x${g.kw}`,
      `s${g.strideH}x${g.strideW}`,
      `m${sizeClass(dims.m)}`,
      `n${sizeClass(dims.n)}`,
      `k${sizeClass(dims.k)}`,
      `g${g.groups > 1 ? 'n' : '1'}`,
    ].join(':'),
    candidates,
    key,
    prepare: () => {
      const one = { ...g, batch: 1 };
      const weight = zeros([g.cOut, g.cInG, g.kh, g.kw]);
      const src = mode === 'forward' ? zeros([1, g.cIn, g.h, g.w]) : zeros([1, g.cOut, g.oh, g.ow]);
      return {
        run: (t) => {
          force(t);
          try {
            const out =
              mode === 'forward' ? conv2dForward(src, weight, null, one) : conv2dGradInput(src, weight, one);
            out.dispose();
          } finally {
            force(null);
          }
        },
        dispose: () => {
          weight.dispose();
          src.dispose();
        },
      };
    },
  };
}

/** Dispatches an implicit GEMM, in several launches when there are more column tiles than one dimension allows. */
export function runGemm(
  mode: GemmMode,
  g: ConvGeometry,
  buffers: (GPUBuffer | GPUBufferBinding)[],
  u: UniformValue[],
  dims: { m: number; n: number; k: number; z: number },
  hasBias: boolean,
): void {
  const engine = getEngine();
  const max = engine.device.limits.maxComputeWorkgroupsPerDimension;
  u[U.m] = dims.m;
  u[U.n] = dims.n;
  u[U.k] = dims.k;
  if (mode !== 'gradWeight' && useDirect()) {
    const t =
      conv2dTuning.directOverride ??
      autotuner.choose(
        convJob(mode, g, dims, 'direct', directCandidates(), directKey, (d) => {
          conv2dTuning.directOverride = d;
        }),
        chooseDirectTile(),
      );
    // One lane per shared channel: llvmpipe's subgroups have at least 8 lanes. Measured on 3×3 and 1×1 only; a
    // 5×5 direct kernel already takes about a minute to compile on a busy llvmpipe, and broadcasting made it longer.
    const sgw = useSubgroupWeights() && t.tm <= 8 && t.wx % 8 === 0 && g.kh * g.kw <= 9;
    const kernel = cached(`direct:${mode}:${g.kh}x${g.kw}:${directKey(t)}:${hasBias}:${sgw}`, () =>
      buildDirectKernel(mode, t, g.kh, g.kw, hasBias, sgw),
    );
    const nTiles = Math.ceil(dims.n / (t.wx * t.tn));
    for (let base = 0; base < nTiles; base += max) {
      u[U.nTileBase] = base;
      engine.dispatch(kernel, buffers, u, [Math.min(max, nTiles - base), Math.ceil(dims.m / t.tm), dims.z]);
    }
    return;
  }
  const tile =
    mode === 'gradWeight'
      ? chooseGradWeightTile(dims.m)
      : (conv2dTuning.tileOverride ??
        autotuner.choose(
          convJob(mode, g, dims, 'tiled', tiledCandidates(dims.m), tileKey, (t) => {
            conv2dTuning.tileOverride = t;
          }),
          chooseTile(dims.m),
        ));
  const kernel = cached(`${mode}:${g.kh}x${g.kw}:${tileKey(tile)}:${hasBias}`, () =>
    buildGemmKernel(mode, tile, g.kh, g.kw, hasBias),
  );
  const nTiles = Math.ceil(dims.n / (tile.wgX * tile.tn));
  const mTiles = Math.ceil(dims.m / (tile.wgY * tile.tm));
  for (let base = 0; base < nTiles; base += max) {
    u[U.nTileBase] = base;
    engine.dispatch(kernel, buffers, u, [Math.min(max, nTiles - base), mTiles, dims.z]);
  }
}

/** How many chunks to split a reduction of `length` terms into, given `blocks` independent outputs blocks. */
export function splitCount(length: number, blocks: number, minChunk: number): number {
  return Math.max(1, Math.min(Math.ceil(conv2dTuning.partialTarget / blocks), Math.floor(length / minChunk)));
}

/** Sums `splits` stacked partial results into `out` (or returns the partial itself when there is one). */
export function reducePartials(partial: Tensor, splits: number, shape: number[]): Tensor {
  if (splits === 1) return partial;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = Tensor.empty(shape, 'float32');
  const engine = getEngine();
  engine.dispatch(
    reducePartialsKernel,
    [partial.storage.buffer, out.storage.buffer],
    [n, splits],
    engine.grid(n, REDUCE_WG),
  );
  partial.dispose();
  return out;
}

export function depthwiseShape(g: ConvGeometry): DepthwiseShape {
  return {
    kh: g.kh,
    kw: g.kw,
    strideH: g.strideH,
    strideW: g.strideW,
    dilationH: g.dilationH,
    dilationW: g.dilationW,
  };
}

export function dwKey(s: DepthwiseShape): string {
  return `${s.kh}x${s.kw}:${s.strideH}x${s.strideW}:${s.dilationH}x${s.dilationW}`;
}

/**
 * Whether a 1×1 weight gradient runs as batched matmuls: its operands must be bound whole (no batch chunking)
 * and the pixels must fit the matmul's workgroup grid. (Forward and input gradient stay on the conv kernels, but
 * for small images on CPU adapters, pointwiseGemm: with 24-144 channels the matmul tiles measured slower than the
 * direct kernel there.)
 */
export function pointwiseFits(g: ConvGeometry, operands: Tensor[]): boolean {
  if (!conv2dTuning.pointwise || !isPointwise(g)) return false;
  const limit = bindingLimit();
  if (g.h * g.w > 32 * getEngine().device.limits.maxComputeWorkgroupsPerDimension) return false;
  return operands.every((t) => pixelsMerge(t) && t.storage.buffer.size <= limit);
}
