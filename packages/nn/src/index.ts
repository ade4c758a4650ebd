export {
  defaultGenerator,
  Generator as InitGenerator,
  manualSeed as manualSeedInit,
} from './init/generator.js';
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
export { ModuleList, Sequential } from './layers/container.js';
export {
  copyInto,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  type StateDict,
} from './module/module.js';
export { AdamW, type AdamWOptions } from './optim/adamw.js';
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
