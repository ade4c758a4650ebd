import {
  EFFICIENTNET_NAMES,
  type EfficientNetName,
  loadSafetensors,
  SMP_EFFICIENTNET_STAGES,
  Unet,
} from '@nephron/nn';
import { CheckpointError } from './training/checkpoint.js';
import type { SegmentationNetwork } from './training/trainer.js';

/** The encoders a UNet can be built on. */
export const ENCODERS: readonly string[] = EFFICIENTNET_NAMES;

/** UNet on an EfficientNet encoder, with smp's module names (so smp checkpoints load and ours load into smp). */
export function createSegmentationModel(encoder: string, classes: number): SegmentationNetwork {
  if (!EFFICIENTNET_NAMES.includes(encoder as EfficientNetName)) {
    throw new RangeError(`unknown encoder "${encoder}"; choose one of ${EFFICIENTNET_NAMES.join(', ')}`);
  }
  return new Unet(encoder as EfficientNetName, { classes });
}

/**
 * Which EfficientNet a UNet state dict was built on, from its keys and shapes alone: the number of MBConv blocks,
 * the stem's width and the last block's width tell b0…b7 apart (b1 and b2 differ only in the last).
 */
export function inferEncoder(shapes: ReadonlyMap<string, readonly number[]>): EfficientNetName | null {
  let blocks = 0;
  while (shapes.has(`encoder._blocks.${blocks}._project_conv.weight`)) blocks++;
  const stem = shapes.get('encoder._conv_stem.weight')?.[0];
  const last = shapes.get(`encoder._blocks.${blocks - 1}._project_conv.weight`)?.[0];
  for (const name of EFFICIENTNET_NAMES) {
    const { stageIdxs, outChannels } = SMP_EFFICIENTNET_STAGES[name];
    if (stageIdxs[3] === blocks && outChannels[1] === stem && outChannels[5] === last) return name;
  }
  return null;
}

/** How a saved model was trained: what prediction must repeat. */
export interface ModelInfo {
  encoder: string;
  classes: number;
  downscale: number;
  tile: number;
  threshold: number;
  validationDice: number | null;
}

/**
 * Loads `model.safetensors` written by `nephron train` (or any smp UNet state dict, given `fallback` settings for
 * what its header does not say) into a ready model in eval mode.
 */
export function loadSegmentationModel(
  bytes: Uint8Array,
  source: string,
  fallback: Partial<ModelInfo> = {},
): { model: SegmentationNetwork; info: ModelInfo } {
  const { tensors, metadata } = loadSafetensors(bytes, source);
  try {
    const number = (key: string, fb: number | undefined, what: string) => {
      const v = metadata[key] !== undefined && metadata[key] !== '' ? Number(metadata[key]) : fb;
      if (v === undefined || !Number.isFinite(v)) {
        throw new CheckpointError(
          `${source}: the file does not say its ${what}; pass it explicitly (e.g. --${what})`,
        );
      }
      return v;
    };
    if (metadata.format === 'nephron-checkpoint-1') {
      throw new CheckpointError(
        `${source}: a training checkpoint (last.safetensors), not a model; use the run's model.safetensors`,
      );
    }
    const encoder =
      metadata.encoder ??
      fallback.encoder ??
      inferEncoder(new Map([...tensors].map(([k, t]) => [k, t.shape])));
    if (!encoder) {
      throw new CheckpointError(
        `${source}: not a UNet-EfficientNet state dict with smp keys (no encoder found); pass --arch`,
      );
    }
    const info: ModelInfo = {
      encoder,
      classes: number('classes', fallback.classes ?? 2, 'classes'),
      downscale: number('downscale', fallback.downscale, 'downscale'),
      tile: number('tile', fallback.tile, 'tile'),
      threshold: number('threshold', fallback.threshold ?? 0.5, 'threshold'),
      validationDice: metadata.validation_dice ? Number(metadata.validation_dice) : null,
    };
    const model = createSegmentationModel(info.encoder, info.classes);
    try {
      model.loadStateDict(tensors, { strict: true });
    } catch (error) {
      model.dispose();
      throw new CheckpointError(
        `${source}: does not fit a UNet on ${info.encoder} with ${info.classes} classes: ${(error as Error).message}`,
      );
    }
    model.eval();
    return { model, info };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
