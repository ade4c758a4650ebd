import './ops/elementwise/core.js';
import './methods.js';

export { isGradEnabled, noGrad, setGradEnabled } from './autograd/grad-mode.js';
export * from './device/index.js';
export type { DType, TensorData } from './dtype.js';
export {
  type AutotuneOptions,
  autotuner,
  FileTuneStore,
  MemoryTuneStore,
  setAutotune,
  settleAutotune,
  type TuneStore,
} from './engine/autotune.js';
export type { MemoryStats } from './engine/engine.js';
export { Engine, getEngine, init, memoryStats, setEngine } from './engine/engine.js';
export type { Kernel, UniformValue } from './engine/kernel.js';
export { LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from './engine/kernel.js';
export {
  formatProfile,
  opType,
  type ProfileRow,
  Profiler,
  ProfilingUnavailableError,
  profileRows,
  startProfiling,
  stopProfiling,
} from './engine/profiler.js';
export { conv2d } from './ops/conv/conv2d.js';
export { conv2dGradInput, conv2dGradWeight } from './ops/conv/conv2d-backward.js';
export type { Conv2dOptions, Conv2dPadding } from './ops/conv/params.js';
export { type ConvGeometry, convGeometry } from './ops/conv/params.js';
export * from './ops/creation.js';
export { type DropoutOptions, dropout, dropPath } from './ops/dropout/dropout.js';
export * from './ops/elementwise/binary.js';
export { map } from './ops/elementwise/map.js';
export * from './ops/elementwise/unary.js';
export { cast, clamp, where } from './ops/elementwise/where.js';
export type { FusedActivation } from './ops/fused/activation.js';
export { batchNormAct } from './ops/fused/batch-norm-act.js';
export { biasAct } from './ops/fused/bias-act.js';
export { seGate } from './ops/fused/se-gate.js';
export { gather } from './ops/index/gather.js';
export { oneHot } from './ops/index/one-hot.js';
export { cat, stack } from './ops/join/cat.js';
export { chunk, split, unbind } from './ops/join/split.js';
export type { ClassLossOptions, Reduction } from './ops/loss/class-loss.js';
export { crossEntropy, nllLoss } from './ops/loss/cross-entropy.js';
export { linear } from './ops/matmul/linear.js';
export { matmul } from './ops/matmul/matmul.js';
export { type BatchNormOptions, batchNorm, batchNorm2d } from './ops/norm/batch-norm.js';
export { pad } from './ops/pad/pad.js';
export { adaptiveAvgPool2d } from './ops/pool/adaptive-avg-pool2d.js';
export { type AvgPool2dOptions, avgPool2d } from './ops/pool/avg-pool2d.js';
export { maxPool2d, maxPool2dWithIndices } from './ops/pool/max-pool2d.js';
export { autocast, HalfWeightCache, isAutocastEnabled } from './ops/precision/autocast.js';
export {
  defaultGenerator,
  Generator,
  type GeneratorState,
  manualSeed,
  setDefaultGenerator,
} from './ops/random/generator.js';
export { bernoulli, type RandomOptions, rand, randint, randn } from './ops/random/random.js';
export { argmax, argmin, max, min, type ValuesIndices } from './ops/reduce/minmax.js';
export { mean, sum, sumTo } from './ops/reduce/sum.js';
export { moments, std, variance } from './ops/reduce/variance.js';
export { logSoftmax, softmax } from './ops/softmax/softmax.js';
export { type InterpolateMode, type InterpolateOptions, interpolate } from './ops/upsample/interpolate.js';
export * from './ops/views.js';
export { dispose, keep, tidy } from './scope.js';
export { broadcastShapes, contiguousStrides, numel } from './shape.js';
export { recordOp, Tensor } from './tensor.js';
