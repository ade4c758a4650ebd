import { getEngine, Tensor } from '@nephron/tensor';
import { AUGMENT_KERNEL, AUGMENT_WORKGROUP } from './kernel.js';
import { type AugmentConfig, PARAM_HEADER, packAugment, type TileAugment } from './params.js';

/** ImageNet statistics, which the pretrained encoders expect. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface AugmentedBatch {
  /** N×3×T×T float32, normalised. */
  image: Tensor;
  /** N×T×T int32 class indices (0 background, 1 glomerulus). */
  mask: Tensor;
}

/**
 * Turns a batch of packed source crops (see `extractCrop`) into augmented, normalised model input on the GPU, so
 * the training loop never waits for per-pixel work on the CPU.
 */
export function augmentBatch(
  crops: Uint32Array,
  cropSide: number,
  tile: number,
  params: readonly TileAugment[],
  config: Pick<AugmentConfig, 'elasticGrid'>,
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): AugmentedBatch {
  const n = params.length;
  if (crops.length !== n * cropSide * cropSide) {
    throw new RangeError(`augmentBatch: ${crops.length} crop pixels for ${n} crops of ${cropSide}²`);
  }
  const grid = config.elasticGrid;
  if (grid < 2) throw new RangeError('augmentBatch: elasticGrid must be at least 2');
  const stride = PARAM_HEADER + 2 * grid * grid;
  const packed = new Float32Array(n * stride);
  params.forEach((p, k) => {
    packAugment(p, packed, k * stride);
  });
  const cropTensor = Tensor.fromData(crops, [crops.length], 'uint32');
  const paramTensor = Tensor.fromData(packed, [packed.length], 'float32');
  const image = Tensor.empty([n, 3, tile, tile], 'float32');
  const mask = Tensor.empty([n, tile, tile], 'int32');
  const engine = getEngine();
  engine.dispatch(
    AUGMENT_KERNEL,
    [cropTensor.storage.buffer, paramTensor.storage.buffer, image.storage.buffer, mask.storage.buffer],
    [n, tile, cropSide, grid, ...mean.map((f) => ({ f })), ...std.map((f) => ({ f }))],
    engine.grid(n * tile * tile, AUGMENT_WORKGROUP),
  );
  cropTensor.dispose();
  paramTensor.dispose();
  return { image, mask };
}
