import type { Engine } from '../../engine/engine.js';

/**
 * Binding part of a buffer. WebGPU limits how large one storage binding may be (maxStorageBufferBindingSize,
 * 128 MiB on many devices) but not how large a buffer is, so kernels over bigger tensors bind the window of
 * the buffer a dispatch touches. A window starts on the device's offset alignment (256 bytes), so the kernel
 * addresses elements relative to `base`, the first element the binding holds.
 */
export interface RangeBinding {
  binding: GPUBufferBinding;
  /** Element index, within the whole buffer, of the binding's first element. */
  base: number;
}

/** Elements `first..last` (inclusive) of a buffer of `bytesPerElement`-byte elements, as one binding. */
export function bindElements(
  engine: Engine,
  buffer: GPUBuffer,
  bytesPerElement: number,
  first: number,
  last: number,
): RangeBinding {
  const align = engine.device.limits.minStorageBufferOffsetAlignment;
  const start = Math.floor((first * bytesPerElement) / align) * align;
  // Storage bindings are sized in whole 4-byte words; pooled buffers always are.
  const end = Math.min(buffer.size, Math.ceil(((last + 1) * bytesPerElement) / 4) * 4);
  return { binding: { buffer, offset: start, size: end - start }, base: start / bytesPerElement };
}

/** Bytes a binding of elements `first..last` may take once its start is aligned down. */
export function boundBytes(engine: Engine, bytesPerElement: number, first: number, last: number): number {
  const align = engine.device.limits.minStorageBufferOffsetAlignment;
  return (last - first + 1) * bytesPerElement + align + 4;
}

let cap = Number.POSITIVE_INFINITY;

/**
 * Lowers the largest binding that splitting kernels plan for, below the device's limit (`null` restores it).
 * Tests use it to exercise the splitting on small tensors.
 */
export function limitBindingBytes(bytes: number | null): void {
  cap = bytes ?? Number.POSITIVE_INFINITY;
}

/** The largest binding kernels that split their work plan for. */
export function bindingBudget(engine: Engine): number {
  return Math.min(engine.maxBindingBytes, cap);
}

/** Whether a buffer can be bound whole. */
export function fitsWhole(engine: Engine, buffer: GPUBuffer): boolean {
  return buffer.size <= bindingBudget(engine);
}

/** First and last element a view touches (strides may be negative, e.g. after a flip). */
export function viewSpan(
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): [number, number] {
  let first = offset;
  let last = offset;
  shape.forEach((d, i) => {
    const reach = (d - 1) * strides[i];
    if (reach < 0) first += reach;
    else last += reach;
  });
  return [first, last];
}
