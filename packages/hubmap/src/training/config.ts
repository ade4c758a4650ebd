import { type AugmentConfig, DEFAULT_AUGMENT } from '../augment/params.js';

/** Everything a training run is configured by; `config.json` in the run folder is this object. */
export interface TrainConfig {
  /** Encoder of the UNet (`efficientnet-b0` … `efficientnet-b7`). */
  encoder: string;
  classes: number;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** Cosine annealing with warm restarts. */
  t0: number;
  tMult: number;
  etaMin: number;
  /** Full-resolution pixels per model pixel. */
  downscale: number;
  /** Model input side. */
  tile: number;
  /** Random tiles per image per epoch, besides one per glomerulus. */
  randomTilesPerImage: number;
  /** Cap on optimizer steps per epoch (null: as many as the sampled tiles allow). */
  stepsPerEpoch: number | null;
  /** Ids of images held out for validation Dice; when empty, `folds`/`fold` choose them. */
  validation: string[];
  folds: number;
  fold: number;
  seed: number;
  /** Write last.safetensors every this many steps as well as at each epoch's end (0: only at epoch ends). */
  checkpointEvery: number;
  augment: AugmentConfig;
  /** Flip TTA during validation. */
  tta: boolean;
  threshold: number;
  /**
   * Overrides the momentum of every batch-norm layer. EfficientNet's 0.01 needs hundreds of steps before the running
   * statistics (used in eval mode) match the weights; short runs such as the demo set a larger value. null keeps the
   * model's own.
   */
  bnMomentum: number | null;
  /**
   * 'f32' trains in float32. 'mixed' runs the forward and backward passes in float16 (autocast) against float32
   * master weights, with float32 batch-norm statistics and loss and a dynamic loss scale; it needs `shader-f16`.
   */
  precision: TrainPrecision;
}

export type TrainPrecision = 'f32' | 'mixed';

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  encoder: 'efficientnet-b4',
  classes: 2,
  epochs: 20,
  batchSize: 8,
  lr: 1e-3,
  weightDecay: 0.01,
  t0: 5,
  tMult: 2,
  etaMin: 1e-6,
  downscale: 3,
  tile: 512,
  randomTilesPerImage: 100,
  stepsPerEpoch: null,
  validation: [],
  folds: 5,
  fold: 0,
  seed: 42,
  checkpointEvery: 0,
  augment: DEFAULT_AUGMENT,
  tta: false,
  threshold: 0.5,
  bnMomentum: null,
  precision: 'f32',
};

/** Checks a configuration and names every bad field. */
export function validateTrainConfig(config: TrainConfig): void {
  const problems: string[] = [];
  const positiveInt = (name: keyof TrainConfig) => {
    const v = config[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      problems.push(`${name} must be a positive integer, got ${v}`);
  };
  for (const name of ['classes', 'epochs', 'batchSize', 'tile', 't0', 'tMult', 'folds'] as const)
    positiveInt(name);
  if (!(config.lr > 0)) problems.push(`lr must be positive, got ${config.lr}`);
  if (!(config.weightDecay >= 0)) problems.push(`weightDecay must be >= 0, got ${config.weightDecay}`);
  if (!(config.downscale >= 1)) problems.push(`downscale must be >= 1, got ${config.downscale}`);
  if (config.tile % 32 !== 0)
    problems.push(`tile must be a multiple of 32 (the encoder downsamples 32x), got ${config.tile}`);
  if (!Number.isInteger(config.randomTilesPerImage) || config.randomTilesPerImage < 0) {
    problems.push(`randomTilesPerImage must be a non-negative integer, got ${config.randomTilesPerImage}`);
  }
  if (
    config.stepsPerEpoch !== null &&
    !(Number.isInteger(config.stepsPerEpoch) && config.stepsPerEpoch > 0)
  ) {
    problems.push(`stepsPerEpoch must be a positive integer or null, got ${config.stepsPerEpoch}`);
  }
  if (!(config.fold >= 0 && config.fold < config.folds))
    problems.push(`fold must be in [0, ${config.folds}), got ${config.fold}`);
  if (!(config.threshold > 0 && config.threshold < 1))
    problems.push(`threshold must be in (0, 1), got ${config.threshold}`);
  if (config.precision !== 'f32' && config.precision !== 'mixed')
    problems.push(`precision must be 'f32' or 'mixed', got ${JSON.stringify(config.precision)}`);
  if (problems.length)
    throw new RangeError(`invalid training configuration:\n  - ${problems.join('\n  - ')}`);
}
