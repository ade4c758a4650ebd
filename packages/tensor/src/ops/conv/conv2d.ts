import { getEngine } from '../../engine/engine.js';
import type { Kernel, UniformValue } from '../../engine/kernel.js';
import { recordOp, Tensor } from '../../tensor.js';
import {
  DEPTHWISE_ROW,
  DEPTHWISE_WG,
  type DepthwiseShape,
  depthwiseForwardKernel,
  depthwiseGradInputKernel,
  depthwiseGradWeightKernel,
} from './depthwise-kernel.js';
import { buildDirectKernel, type DirectTile, directKey } from './direct-kernel.js';
import { buildGemmKernel, type GemmMode, type GemmTile, tileKey, U } from './gemm-kernel.js';
import { type Conv2dOptions, type ConvGeometry, convGeometry, isDepthwise } from './params.js';
import { biasGradKernel, REDUCE_WG, reducePartialsKernel } from './reduce-kernel.js';

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
} = {
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

export function chooseDirectTile(m: number): DirectTile {
  if (conv2dTuning.directOverride) return conv2dTuning.directOverride;
  return m <= 4 ? { wx: 64, tm: 4, tn: 2 } : { wx: 64, tm: 8, tn: 2 };
}

function useDirect(): boolean {
  if (conv2dTuning.strategy !== 'auto') return conv2dTuning.strategy === 'direct';
  return getEngine().gpu.info.isSoftware;
}

const kernelCache = new Map<string, Kernel>();
function cached(key: string, build: () => Kernel): Kernel {
  let k = kernelCache.get(key);
  if (!k) {
    k = build();
    kernelCache.set(key, k);
  }
  return k;
}

/** The shared uniform block: geometry plus operand A and B as (offset, 4 strides). */
function uniforms(
  g: ConvGeometry,
  a: Tensor | null,
  b: Tensor | null,
  extra: Partial<Record<keyof typeof U, number>> = {},
  bias: Tensor | null = null,
): UniformValue[] {
  const u: UniformValue[] = new Array<UniformValue>(U.nTileBase + 1).fill(0);
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

/** A binding larger than the device allows cannot be split here (the engine binds whole buffers): say so. */
function checkBindable(t: Tensor | null, what: string): void {
  if (!t) return;
  const limit = getEngine().maxBindingBytes;
  if (t.storage.buffer.size > limit) {
    throw new RangeError(
      `conv2d: ${what} ${t} occupies a ${t.storage.buffer.size}-byte buffer, over this device's ` +
        `maxStorageBufferBindingSize of ${limit} bytes; run it in smaller batches`,
    );
  }
}

function allocate(shape: number[], what: string): Tensor {
  const bytes = shape.reduce((a, b) => a * b, 1) * 4;
  const limit = getEngine().maxBindingBytes;
  if (bytes > limit) {
    throw new RangeError(
      `conv2d: the ${what} [${shape}] would take ${bytes} bytes, over this device's maxStorageBufferBindingSize ` +
        `of ${limit} bytes; run it in smaller batches`,
    );
  }
  return Tensor.empty(shape, 'float32');
}

/** Dispatches an implicit GEMM, in several launches when there are more column tiles than one dimension allows. */
function runGemm(
  mode: GemmMode,
  g: ConvGeometry,
  buffers: GPUBuffer[],
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
    const t = chooseDirectTile(dims.m);
    const kernel = cached(`direct:${mode}:${g.kh}x${g.kw}:${directKey(t)}:${hasBias}`, () =>
      buildDirectKernel(mode, t, g.kh, g.kw, hasBias),
    );
    const nTiles = Math.ceil(dims.n / (t.wx * t.tn));
    for (let base = 0; base < nTiles; base += max) {
      u[U.nTileBase] = base;
      engine.dispatch(kernel, buffers, u, [Math.min(max, nTiles - base), Math.ceil(dims.m / t.tm), dims.z]);
    }
    return;
  }
  const tile = chooseTile(dims.m);
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
function splitCount(length: number, blocks: number, minChunk: number): number {
  return Math.max(1, Math.min(Math.ceil(conv2dTuning.partialTarget / blocks), Math.floor(length / minChunk)));
}

/** Sums `splits` stacked partial results into `out` (or returns the partial itself when there is one). */
function reducePartials(partial: Tensor, splits: number, shape: number[]): Tensor {
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

function depthwiseShape(g: ConvGeometry): DepthwiseShape {
  return {
    kh: g.kh,
    kw: g.kw,
    strideH: g.strideH,
    strideW: g.strideW,
    dilationH: g.dilationH,
    dilationW: g.dilationW,
  };
}

function dwKey(s: DepthwiseShape): string {
  return `${s.kh}x${s.kw}:${s.strideH}x${s.strideW}:${s.dilationH}x${s.dilationW}`;
}

function forward(x: Tensor, weight: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  const out = allocate([g.batch, g.cOut, g.oh, g.ow], 'output');
  if (out.numel() === 0) return out;
  const buffers = [weight.storage.buffer, x.storage.buffer];
  if (bias) buffers.push(bias.storage.buffer);
  buffers.push(out.storage.buffer);
  if (isDepthwise(g)) {
    const s = depthwiseShape(g);
    const kernel = cached(`dw:${dwKey(s)}:${bias !== null}`, () => depthwiseForwardKernel(s, bias !== null));
    const items = g.oh * Math.ceil(g.ow / DEPTHWISE_ROW);
    getEngine().dispatch(kernel, buffers, uniforms(g, weight, x, { n: items }, bias), [
      Math.ceil(items / DEPTHWISE_WG),
      g.cOut,
      g.batch,
    ]);
    return out;
  }
  const k = g.cInG * g.kh * g.kw;
  runGemm(
    'forward',
    g,
    buffers,
    uniforms(g, weight, x, {}, bias),
    { m: g.cOutG, n: g.batch * g.oh * g.ow, k, z: g.groups },
    bias !== null,
  );
  return out;
}

/** dL/dx: the transposed convolution of dy with the weight. */
export function conv2dGradInput(dy: Tensor, weight: Tensor, g: ConvGeometry): Tensor {
  const dx = allocate([g.batch, g.cIn, g.h, g.w], 'input gradient');
  if (dx.numel() === 0) return dx;
  const buffers = [weight.storage.buffer, dy.storage.buffer, dx.storage.buffer];
  if (isDepthwise(g)) {
    const s = depthwiseShape(g);
    const kernel = cached(`dwdx:${dwKey(s)}`, () => depthwiseGradInputKernel(s));
    const items = g.h * Math.ceil(g.w / DEPTHWISE_ROW);
    getEngine().dispatch(kernel, buffers, uniforms(g, weight, dy, { n: items }), [
      Math.ceil(items / DEPTHWISE_WG),
      g.cIn,
      g.batch,
    ]);
    return dx;
  }
  runGemm(
    'gradInput',
    g,
    buffers,
    uniforms(g, weight, dy),
    { m: g.cInG, n: g.batch * g.h * g.w, k: g.cOutG * g.kh * g.kw, z: g.groups },
    false,
  );
  return dx;
}

/** dL/dweight: a reduction over every output pixel of the batch, split into chunks that run in parallel. */
export function conv2dGradWeight(dy: Tensor, x: Tensor, g: ConvGeometry): Tensor {
  const shape = [g.cOut, g.cInG, g.kh, g.kw];
  const pixels = g.batch * g.oh * g.ow;
  const engine = getEngine();
  if (isDepthwise(g)) {
    const s = depthwiseShape(g);
    const segments = g.batch * g.oh * Math.ceil(g.ow / DEPTHWISE_ROW);
    const splits = splitCount(segments, g.cOut, 2 * DEPTHWISE_WG);
    const chunk = Math.ceil(segments / splits);
    const partial = allocate(splits === 1 ? shape : [splits, ...shape], 'weight gradient partials');
    const kernel = cached(`dwdw:${dwKey(s)}`, () => depthwiseGradWeightKernel(s));
    engine.dispatch(
      kernel,
      [dy.storage.buffer, x.storage.buffer, partial.storage.buffer],
      uniforms(g, dy, x, { kChunk: chunk }),
      [g.cOut, splits],
    );
    return reducePartials(partial, splits, shape);
  }
  const m = g.cOutG;
  const n = g.cInG * g.kh * g.kw;
  const tile = chooseTile(m);
  const blocks = Math.ceil(m / (tile.wgY * tile.tm)) * Math.ceil(n / (tile.wgX * tile.tn)) * g.groups;
  let splits = splitCount(pixels, blocks, 16 * tile.tk);
  const chunk = Math.ceil(pixels / splits / tile.tk) * tile.tk;
  splits = Math.ceil(pixels / chunk);
  const partial = allocate(splits === 1 ? shape : [splits, ...shape], 'weight gradient partials');
  if (pixels === 0) {
    partial.dispose();
    return zerosOf(shape);
  }
  runGemm(
    'gradWeight',
    g,
    [dy.storage.buffer, x.storage.buffer, partial.storage.buffer],
    uniforms(g, dy, x, { kChunk: chunk }),
    { m, n, k: pixels, z: g.groups * splits },
    false,
  );
  return reducePartials(partial, splits, shape);
}

/** dL/dbias: dy summed over batch and pixels, in parallel chunks per channel. */
export function conv2dGradBias(dy: Tensor, g: ConvGeometry): Tensor {
  const pixels = g.batch * g.oh * g.ow;
  if (pixels === 0) return zerosOf([g.cOut]);
  const splits = splitCount(pixels, g.cOut, 4 * REDUCE_WG);
  const chunk = Math.ceil(pixels / splits);
  const partial = Tensor.empty(splits === 1 ? [g.cOut] : [splits, g.cOut], 'float32');
  getEngine().dispatch(
    biasGradKernel,
    [dy.storage.buffer, partial.storage.buffer],
    uniforms(g, dy, null, { kChunk: chunk }),
    [g.cOut, splits],
  );
  return reducePartials(partial, splits, [g.cOut]);
}

function zerosOf(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromData(new Float32Array(n), shape);
}

function checkOperand(t: Tensor, what: string): void {
  t.assertAlive();
  if (t.dtype !== 'float32')
    throw new TypeError(`conv2d: ${what} ${t} is ${t.dtype}; conv2d computes in float32`);
  checkBindable(t, what);
}

/**
 * 2-D convolution of an N×C×H×W input with a Cout×(C/groups)×kH×kW weight, as `torch.nn.functional.conv2d`.
 * `padding` also takes F.pad's [left, right, top, bottom] for asymmetric ("static same") padding.
 * Depthwise convolutions (groups = C, one input channel per group) get their own kernels; everything else runs
 * as an implicit GEMM. Inputs may be views with any strides.
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: Conv2dOptions = {},
): Tensor {
  checkOperand(x, 'input');
  checkOperand(weight, 'weight');
  if (bias) checkOperand(bias, 'bias');
  const g = convGeometry(x.shape, weight.shape, bias?.shape ?? null, options);
  const out = forward(x, weight, bias, g);
  return recordOp(
    'conv2d',
    out,
    [x, weight, bias],
    (dy, [xs, ws], needs) => {
      checkBindable(dy, 'output gradient');
      return [
        needs[0] ? conv2dGradInput(dy, ws, g) : null,
        needs[1] ? conv2dGradWeight(dy, xs, g) : null,
        needs[2] ? conv2dGradBias(dy, g) : null,
      ];
    },
    [x, weight],
  );
}
