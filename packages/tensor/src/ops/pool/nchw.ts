import { getEngine } from '../../engine/engine.js';
import type { Kernel, UniformValue } from '../../engine/kernel.js';
import { formatShape } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { forEachSlab, planSlabs, type SlabWindow, slabWindow } from '../elementwise/slabs.js';

/** The storage element of a per-pixel kernel's tensors; the kernels compute in f32 whichever it is. */
export type ElementType = 'f32' | 'f16';

export function elementType(t: Tensor): ElementType {
  return t.dtype === 'float16' ? 'f16' : 'f32';
}

/** The head of a kernel on `E` storage: `enable f16;` must open a module that names f16. */
export function elementWgsl(type: ElementType): string {
  return `${type === 'f16' ? 'enable f16;\n' : ''}alias E = ${type};\n`;
}

/** A kernel built once per storage element type, on first use (f16 kernels compile only on shader-f16 devices). */
export function perElement(build: (type: ElementType) => Kernel): (type: ElementType) => Kernel {
  const built = new Map<ElementType, Kernel>();
  return (type) => {
    let kernel = built.get(type);
    if (!kernel) {
      kernel = build(type);
      built.set(type, kernel);
    }
    return kernel;
  };
}

/**
 * Uniform words shared by the pooling and upsampling kernels, which all map an NCHW input to an NCHW output:
 * 0 count of threads' items, 1..4 N C H W, 5..6 OH OW, 7 input offset, 8..11 input strides,
 * 12 grad offset, 13..16 grad strides (backward kernels), 17 offset of the contiguous tensor written at each
 * thread's item (out or gx), 18 offset of max pooling's indices, then each kernel's own parameters from word 19.
 */
export const NCHW_PARAMS = 19;

export const NCHW_WGSL = /* wgsl */ `
fn N_() -> u32 { return ui(1u); }
fn C_() -> u32 { return ui(2u); }
fn H_() -> u32 { return ui(3u); }
fn W_() -> u32 { return ui(4u); }
fn OH_() -> u32 { return ui(5u); }
fn OW_() -> u32 { return ui(6u); }
// Where plane (n, c) of the input starts, and the step to (h, w).
fn xPlane(nc: u32) -> u32 { return ui(7u) + (nc / C_()) * ui(8u) + (nc % C_()) * ui(9u); }
fn xAt(plane: u32, h: u32, w: u32) -> u32 { return plane + h * ui(10u) + w * ui(11u); }
fn gPlane(nc: u32) -> u32 { return ui(12u) + (nc / C_()) * ui(13u) + (nc % C_()) * ui(14u); }
fn gAt(plane: u32, h: u32, w: u32) -> u32 { return plane + h * ui(15u) + w * ui(16u); }
fn outAt(i: u32) -> u32 { return ui(17u) + i; }
fn indexAt(i: u32) -> u32 { return ui(18u) + i; }
`;

/**
 * The start of every forward kernel here: one thread per output pixel `i`, which reads input plane `plane` to write
 * output (oh, ow).
 */
export function outputPixelWgsl(workgroup: number): string {
  return `  let i = linearIndex(gid, nwg, ${workgroup}u);
  if (i >= ui(0u)) { return; }
  let ow = i % OW_();
  let oh = (i / OW_()) % OH_();
  let plane = xPlane(i / (OW_() * OH_()));`;
}

/** The start of the backward kernels: one thread per input pixel (h, w), gathering from gradient plane `plane`. */
export function inputPixelWgsl(workgroup: number): string {
  return `  let i = linearIndex(gid, nwg, ${workgroup}u);
  if (i >= ui(0u)) { return; }
  let w = i % W_();
  let h = (i / W_()) % H_();
  let plane = gPlane(i / (W_() * H_()));`;
}

export interface NchwLaunch {
  kernel: Kernel;
  /** Tensors in the kernel's binding order; every one has the batch as dim 0. */
  bindings: readonly Tensor[];
  /** (N, C, H, W) of the op's input, and the output's plane. */
  inputShape: readonly number[];
  outHW: readonly [number, number];
  /** The strided views the kernel reads through xAt (the input) and gAt (the gradient). */
  x?: Tensor;
  g?: Tensor;
  /** The contiguous tensor written at each thread's item (outAt), and max pooling's indices (indexAt). */
  out: Tensor;
  indices?: Tensor;
  /** Threads per sample, and the workgroup size they are gridded by. */
  threadsPerSample: number;
  workgroup: number;
  params?: readonly UniformValue[];
}

/**
 * Dispatches a pooling or upsampling kernel over the batch. Samples are independent, so tensors larger than a
 * storage binding (a B4-UNet decoder at 8 × 512² upsamples into 268 MB) run as slabs of samples, each tensor bound
 * as the window its slab touches, with offsets relative to that window.
 */
export function dispatchNchw(launch: NchwLaunch): void {
  const engine = getEngine();
  const [n, c, h, w] = launch.inputShape;
  const threads = n * launch.threadsPerSample;
  if (threads === 0) return;
  const words = (samples: number, offsetOf: (t: Tensor) => number): UniformValue[] => {
    const view = (t: Tensor | undefined) => (t ? [offsetOf(t), ...t.strides] : [0, 0, 0, 0, 0]);
    return [
      samples * launch.threadsPerSample,
      samples,
      c,
      h,
      w,
      launch.outHW[0],
      launch.outHW[1],
      ...view(launch.x),
      ...view(launch.g),
      offsetOf(launch.out),
      launch.indices ? offsetOf(launch.indices) : 0,
      ...(launch.params ?? []),
    ];
  };
  const grid = (samples: number) => engine.grid(samples * launch.threadsPerSample, launch.workgroup);
  const role = (t: Tensor) =>
    t === launch.x ? 'input' : t === launch.g ? 'gradient' : t === launch.indices ? 'indices' : 'output';
  const plan = planSlabs(
    launch.kernel.name,
    launch.bindings.map((t) => [t, role(t)] as const),
    0,
    'sample',
  );
  forEachSlab(plan, (first, count) => {
    const windows = new Map(launch.bindings.map((t) => [t, slabWindow(plan, t, first, count)]));
    engine.dispatch(
      launch.kernel,
      launch.bindings.map((t) => (windows.get(t) as SlabWindow).binding),
      words(count, (t) => windows.get(t)?.offset ?? 0),
      grid(count),
    );
  });
}

/** Throws unless `x` is a float32 or float16 NCHW tensor, naming the op. */
export function checkNchw(x: Tensor, op: string): void {
  x.assertAlive();
  if (x.ndim !== 4)
    throw new RangeError(`${op}: input ${x} must be 4-D (N, C, H, W), got ${formatShape(x.shape)}`);
  if (x.dtype !== 'float32' && x.dtype !== 'float16')
    throw new TypeError(`${op}: input ${x} must be float32 or float16, got ${x.dtype}`);
}

export type Pair = number | readonly [number, number];

export function pair(value: Pair, what: string, op: string, min: number): [number, number] {
  const p: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= min)) {
    throw new RangeError(
      `${op}: ${what} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(value)}`,
    );
  }
  return p;
}

export interface Window {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  out: [number, number];
}

/** Kernel, stride (default: the kernel) and padding of a pooling window, checked as PyTorch does. */
export function poolWindow(
  x: Tensor,
  op: string,
  kernel: Pair,
  stride?: Pair | null,
  padding: Pair = 0,
): Window {
  const k = pair(kernel, 'kernel size', op, 1);
  const s = stride === undefined || stride === null ? k : pair(stride, 'stride', op, 1);
  const p = pair(padding, 'padding', op, 0);
  if (p[0] > k[0] / 2 || p[1] > k[1] / 2) {
    throw new RangeError(`${op}: padding [${p}] must be at most half the kernel size [${k}]`);
  }
  const [, , h, w] = x.shape;
  const out: [number, number] = [
    Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1,
    Math.floor((w + 2 * p[1] - k[1]) / s[1]) + 1,
  ];
  if (out[0] < 1 || out[1] < 1) {
    throw new RangeError(
      `${op}: input ${formatShape(x.shape)} is too small for kernel [${k}] with padding [${p}]`,
    );
  }
  return { kernel: k, stride: s, padding: p, out };
}

/** Window words appended after the NCHW words: kh kw sh sw ph pw. */
export function windowWords(win: Window): number[] {
  return [...win.kernel, ...win.stride, ...win.padding];
}

/**
 * WGSL giving, for input row `i`, the range of output rows whose window covers it:
 * o·s − p ≤ i ≤ o·s − p + k − 1, clipped to [0, O).
 */
export const COVER_WGSL = /* wgsl */ `
fn coverLo(i: u32, k: u32, s: u32, p: u32) -> u32 {
  let a = i32(i + p) - i32(k) + 1;
  if (a <= 0) { return 0u; }
  return (u32(a) + s - 1u) / s;
}
fn coverHi(i: u32, s: u32, p: u32, O: u32) -> u32 { return min((i + p) / s + 1u, O); }
`;
