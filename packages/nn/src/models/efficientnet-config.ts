/**
 * The EfficientNet family as lukemelas' EfficientNet-PyTorch defines it and segmentation_models_pytorch (smp)
 * uses it as an encoder: B0's stages scaled in width and depth per model, channels rounded to multiples of 8.
 */

export const EFFICIENTNET_NAMES = [
  'efficientnet-b0',
  'efficientnet-b1',
  'efficientnet-b2',
  'efficientnet-b3',
  'efficientnet-b4',
  'efficientnet-b5',
  'efficientnet-b6',
  'efficientnet-b7',
] as const;

export type EfficientNetName = (typeof EFFICIENTNET_NAMES)[number];

export interface EfficientNetParams {
  width: number;
  depth: number;
  /** The native image size; static "SAME" padding is computed for it. */
  resolution: number;
  dropout: number;
}

export const EFFICIENTNET_PARAMS: Record<EfficientNetName, EfficientNetParams> = {
  'efficientnet-b0': { width: 1.0, depth: 1.0, resolution: 224, dropout: 0.2 },
  'efficientnet-b1': { width: 1.0, depth: 1.1, resolution: 240, dropout: 0.2 },
  'efficientnet-b2': { width: 1.1, depth: 1.2, resolution: 260, dropout: 0.3 },
  'efficientnet-b3': { width: 1.2, depth: 1.4, resolution: 300, dropout: 0.3 },
  'efficientnet-b4': { width: 1.4, depth: 1.8, resolution: 380, dropout: 0.4 },
  'efficientnet-b5': { width: 1.6, depth: 2.2, resolution: 456, dropout: 0.4 },
  'efficientnet-b6': { width: 1.8, depth: 2.6, resolution: 528, dropout: 0.5 },
  'efficientnet-b7': { width: 2.0, depth: 3.1, resolution: 600, dropout: 0.5 },
};

/**
 * smp's encoder stages: the blocks after which a feature map is taken (block indices are exclusive ends) and
 * the channels of the features [input, stem, /4, /8, /16, /32]. B0's third end (9) is smp's choice, not the
 * stage boundary (11); it is kept so checkpoints behave the same.
 */
export const SMP_EFFICIENTNET_STAGES: Record<
  EfficientNetName,
  { stageIdxs: [number, number, number, number]; outChannels: number[] }
> = {
  'efficientnet-b0': { stageIdxs: [3, 5, 9, 16], outChannels: [3, 32, 24, 40, 112, 320] },
  'efficientnet-b1': { stageIdxs: [5, 8, 16, 23], outChannels: [3, 32, 24, 40, 112, 320] },
  'efficientnet-b2': { stageIdxs: [5, 8, 16, 23], outChannels: [3, 32, 24, 48, 120, 352] },
  'efficientnet-b3': { stageIdxs: [5, 8, 18, 26], outChannels: [3, 40, 32, 48, 136, 384] },
  'efficientnet-b4': { stageIdxs: [6, 10, 22, 32], outChannels: [3, 48, 32, 56, 160, 448] },
  'efficientnet-b5': { stageIdxs: [8, 13, 27, 39], outChannels: [3, 48, 40, 64, 176, 512] },
  'efficientnet-b6': { stageIdxs: [9, 15, 31, 45], outChannels: [3, 56, 40, 72, 200, 576] },
  'efficientnet-b7': { stageIdxs: [11, 18, 38, 55], outChannels: [3, 64, 48, 80, 224, 640] },
};

/** B0's stages: kernel, stride, expansion, input and output filters, repeats; squeeze-excite ratio 0.25 in all. */
export const B0_STAGES: readonly {
  kernel: number;
  stride: number;
  expand: number;
  inFilters: number;
  outFilters: number;
  repeats: number;
}[] = [
  { kernel: 3, stride: 1, expand: 1, inFilters: 32, outFilters: 16, repeats: 1 },
  { kernel: 3, stride: 2, expand: 6, inFilters: 16, outFilters: 24, repeats: 2 },
  { kernel: 5, stride: 2, expand: 6, inFilters: 24, outFilters: 40, repeats: 2 },
  { kernel: 3, stride: 2, expand: 6, inFilters: 40, outFilters: 80, repeats: 3 },
  { kernel: 5, stride: 1, expand: 6, inFilters: 80, outFilters: 112, repeats: 3 },
  { kernel: 5, stride: 2, expand: 6, inFilters: 112, outFilters: 192, repeats: 4 },
  { kernel: 3, stride: 1, expand: 6, inFilters: 192, outFilters: 320, repeats: 1 },
];

export const SE_RATIO = 0.25;
export const BN_MOMENTUM = 0.01;
export const BN_EPS = 1e-3;
export const DROP_CONNECT_RATE = 0.2;

/** Channels scaled by the width multiplier, rounded to a multiple of 8 and never more than 10% down. */
export function roundFilters(filters: number, width: number, divisor = 8): number {
  const scaled = filters * width;
  let rounded = Math.max(divisor, Math.floor((scaled + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * scaled) rounded += divisor;
  return rounded;
}

/** Repeats scaled by the depth multiplier, rounded up. */
export function roundRepeats(repeats: number, depth: number): number {
  return Math.ceil(depth * repeats);
}
