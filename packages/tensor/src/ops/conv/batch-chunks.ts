import { getEngine } from '../../engine/engine.js';
import { Tensor } from '../../tensor.js';
import { conv2dTuning } from './conv-tuning.js';
import type { ConvGeometry } from './params.js';

// Splitting a convolution over batch chunks so no operand binding exceeds the device's storage-binding limit.

/** The binding size conv2d plans with: the device's, unless a test lowers it to exercise batch chunking. */
export function bindingLimit(): number {
  return conv2dTuning.maxBindingBytes ?? getEngine().maxBindingBytes;
}

/** Operands bound whole (weight, bias) must fit one binding. */
export function checkBindable(t: Tensor | null, what: string): void {
  if (!t) return;
  const limit = bindingLimit();
  if (t.storage.buffer.size > limit) {
    throw new RangeError(
      `conv2d: ${what} ${t} occupies a ${t.storage.buffer.size}-byte buffer, over the ` +
        `maxStorageBufferBindingSize of ${limit} bytes`,
    );
  }
}

export function allocate(shape: number[], what: string): Tensor {
  const bytes = shape.reduce((a, b) => a * b, 1) * 4;
  const limit = bindingLimit();
  if (bytes > limit) {
    throw new RangeError(
      `conv2d: the ${what} [${shape}] would take ${bytes} bytes, over the maxStorageBufferBindingSize ` +
        `of ${limit} bytes`,
    );
  }
  return Tensor.empty(shape, 'float32');
}

/** Bytes spanned by `images` consecutive images of a 4-D operand. */
export function spanBytes(t: Tensor, images: number): number {
  let extent = 1;
  for (let d = 1; d < 4; d++) extent += (t.shape[d] - 1) * t.strides[d];
  return ((images - 1) * t.strides[0] + extent) * 4;
}

/** A window of an operand's buffer holding some images, and where its first element sits in that window. */
export interface Window {
  binding: GPUBuffer | GPUBufferBinding;
  offset: number;
}

export function windowOf(t: Tensor, first: number, images: number, whole: boolean): Window {
  if (whole) return { binding: t.storage.buffer, offset: t.offset };
  const align = getEngine().device.limits.minStorageBufferOffsetAlignment;
  const start = (t.offset + first * t.strides[0]) * 4;
  const base = start - (start % align);
  const size = Math.min(
    t.storage.buffer.size - base,
    Math.ceil((start - base + spanBytes(t, images)) / 4) * 4,
  );
  return { binding: { buffer: t.storage.buffer, offset: base, size }, offset: (start - base) / 4 };
}

/**
 * Runs `launch` over the batch in chunks whose images fit one storage binding in every batched operand (a B4-UNet
 * activation at batch 8 × 512² is larger than the 128 MiB some devices bind). With everything small enough, that
 * is one launch over whole buffers.
 */
/** The most images per launch such that each batched operand's window fits one storage binding. */
export function imagesPerLaunch(g: ConvGeometry, batched: [Tensor, string][]): number {
  const limit = bindingLimit();
  let per = g.batch;
  if (batched.every(([t]) => t.storage.buffer.size <= limit)) return per;
  const slack = getEngine().device.limits.minStorageBufferOffsetAlignment;
  for (const [t, what] of batched) {
    const one = spanBytes(t, 1) + slack;
    if (one > limit) {
      throw new RangeError(
        `conv2d: one image of the ${what} ${t} spans ${one} bytes, over the maxStorageBufferBindingSize of ` +
          `${limit} bytes; use smaller images`,
      );
    }
    if (t.strides[0] > 0) per = Math.min(per, Math.floor((limit - one) / (t.strides[0] * 4)) + 1);
  }
  return per;
}

export function forEachBatchChunk(
  g: ConvGeometry,
  batched: [Tensor, string][],
  launch: (windows: Window[], chunk: ConvGeometry, index: number) => void,
): void {
  const per = imagesPerLaunch(g, batched);
  const whole = per >= g.batch;
  let index = 0;
  for (let first = 0; first < g.batch; first += per, index++) {
    const images = Math.min(per, g.batch - first);
    launch(
      batched.map(([t]) => windowOf(t, first, images, whole)),
      { ...g, batch: images },
      index,
    );
  }
}
