import { getEngine } from '../../engine/engine.js';
import { Tensor } from '../../tensor.js';
import { bindingBudget } from '../elementwise/binding-range.js';
import { forEachSlab, planSlabs, type SlabWindow, slabWindow } from '../elementwise/slabs.js';
import { conv2dTuning } from './conv-tuning.js';
import type { ConvGeometry } from './params.js';

// Splitting a convolution over batch chunks so no operand binding exceeds the device's storage-binding limit.

/** The binding size conv2d plans with: the device's, unless a test lowers it to exercise batch chunking. */
export function bindingLimit(): number {
  return conv2dTuning.maxBindingBytes ?? bindingBudget(getEngine());
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

/**
 * The most images per launch such that each batched operand's window fits one storage binding (a B4-UNet
 * activation at batch 8 × 512² is larger than the 128 MiB some devices bind).
 */
export function imagesPerLaunch(g: ConvGeometry, batched: [Tensor, string][]): number {
  return Math.min(g.batch, planSlabs('conv2d', batched, 0, 'image', bindingLimit()).per);
}

/** Runs `launch` over the batch in chunks of `imagesPerLaunch`: with everything small enough, one launch. */
export function forEachBatchChunk(
  g: ConvGeometry,
  batched: [Tensor, string][],
  launch: (windows: SlabWindow[], chunk: ConvGeometry, index: number) => void,
): void {
  const plan = planSlabs('conv2d', batched, 0, 'image', bindingLimit());
  let index = 0;
  forEachSlab(plan, (first, images) => {
    launch(
      batched.map(([t]) => slabWindow(plan, t, first, images)),
      { ...g, batch: images },
      index++,
    );
  });
}
