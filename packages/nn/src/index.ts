/**
 * Initialisers draw from @nephron/tensor's generator, so its `manualSeed` seeds model construction; this alias
 * is kept for callers that seed "init" separately.
 */
export { manualSeed as manualSeedInit } from '@nephron/tensor';
export {
  calculateGain,
  defaultBias,
  defaultWeight,
  fans,
  type KaimingOptions,
  kaimingUniform,
  type Nonlinearity,
  uniformTensor,
  xavierUniform,
} from './init/init.js';
export { Identity, ReLU, Sigmoid, SiLU, Swish } from './layers/activation.js';
export { BatchNorm2d, type BatchNorm2dOptions } from './layers/batchnorm.js';
export { ModuleList, Sequential } from './layers/container.js';
export { Conv2d, type Conv2dOptions, staticSamePadding } from './layers/conv.js';
export { convBnAct } from './layers/conv-bn-act.js';
export { Dropout, DropPath } from './layers/dropout.js';
export { type FoldedConv, foldBatchNorm, foldedConv, unfoldBatchNorm } from './layers/fold-batch-norm.js';
export { Linear } from './layers/linear.js';
export { ceDiceLoss, crossEntropyLoss, type DiceLossOptions, diceLoss } from './loss/losses.js';
export {
  EfficientNetEncoder,
  type EfficientNetOptions,
  type MBConvArgs,
  MBConvBlock,
} from './models/efficientnet.js';
export {
  B0_STAGES,
  BN_EPS,
  BN_MOMENTUM,
  DROP_CONNECT_RATE,
  EFFICIENTNET_NAMES,
  EFFICIENTNET_PARAMS,
  type EfficientNetName,
  type EfficientNetParams,
  roundFilters,
  roundRepeats,
  SE_RATIO,
  SMP_EFFICIENTNET_STAGES,
} from './models/efficientnet-config.js';
export { type FusedModel, fuseForInference } from './models/fuse.js';
export {
  Conv2dReLU,
  DecoderBlock,
  Unet,
  UnetDecoder,
  type UnetOptions,
} from './models/unet.js';
export {
  copyInto,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  type StateDict,
} from './module/module.js';
export { AdamW, type AdamWOptions } from './optim/adamw.js';
export {
  LossScaler,
  type LossScalerOptions,
  type LossScalerState,
  type ScaledStep,
} from './optim/loss-scaler.js';
export {
  CosineAnnealingWarmRestarts,
  type CosineAnnealingWarmRestartsOptions,
  type CosineAnnealingWarmRestartsState,
  LRScheduler,
} from './optim/lr-scheduler.js';
export {
  type Hyper,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamState,
} from './optim/optimizer.js';
export { SGD, type SGDOptions } from './optim/sgd.js';
export {
  bfloat16ToFloat,
  bytesToFloat32,
  bytesToNumbers,
  DTYPE_BYTES,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  numbersToBytes,
  type SafetensorsDType,
} from './safetensors/dtypes.js';
export {
  MAX_HEADER_BYTES,
  parseSafetensors,
  type SafetensorsEntry,
  SafetensorsError,
  type SafetensorsFile,
  serializeSafetensors,
} from './safetensors/format.js';
export {
  entryToTensor,
  loadSafetensors,
  type SaveOptions,
  saveSafetensors,
  tensorToEntry,
} from './safetensors/tensors.js';
