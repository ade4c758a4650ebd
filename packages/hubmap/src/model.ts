import { EFFICIENTNET_NAMES, type EfficientNetName, loadSafetensors, Unet } from '@nephron/nn';
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
        throw new Error(`${source}: the file does not say its ${what}; pass it explicitly (e.g. --${what})`);
      }
      return v;
    };
    const encoder = metadata.encoder ?? fallback.encoder;
    if (!encoder) throw new Error(`${source}: the file does not say its encoder; pass --encoder`);
    const info: ModelInfo = {
      encoder,
      classes: number('classes', fallback.classes ?? 2, 'classes'),
      downscale: number('downscale', fallback.downscale, 'downscale'),
      tile: number('tile', fallback.tile, 'tile'),
      threshold: number('threshold', fallback.threshold ?? 0.5, 'threshold'),
      validationDice: metadata.validation_dice ? Number(metadata.validation_dice) : null,
    };
    const model = createSegmentationModel(info.encoder, info.classes);
    model.loadStateDict(tensors, { strict: true });
    model.eval();
    return { model, info };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
