import './ops/elementwise/core.js';
import './methods.js';

export { isGradEnabled, noGrad, setGradEnabled } from './autograd/grad-mode.js';
export * from './device/index.js';
export type { DType, TensorData } from './dtype.js';
export type { MemoryStats } from './engine/engine.js';
export { Engine, getEngine, init, memoryStats, setEngine } from './engine/engine.js';
export type { Kernel, UniformValue } from './engine/kernel.js';
export * from './ops/creation.js';
export * from './ops/elementwise/binary.js';
export { map } from './ops/elementwise/map.js';
export * from './ops/elementwise/unary.js';
export { cast, clamp, where } from './ops/elementwise/where.js';
export { sum, sumTo } from './ops/reduce/sum.js';
export * from './ops/views.js';
export { dispose, keep, tidy } from './scope.js';
export { broadcastShapes, contiguousStrides, numel } from './shape.js';
export { recordOp, Tensor } from './tensor.js';
