export type { AdapterDescription, NephronDevice, RequestDeviceOptions } from './device.js';
export { describeAdapter, requestDevice } from './device.js';
export { DeviceLostError, GpuError, NoAdapterError, SOFTWARE_GPU_HELP } from './errors.js';
export { WANTED_FEATURES, WANTED_LIMITS } from './features.js';
export { getGpu, isNode } from './gpu.js';
export type { SelfTestResult } from './self-test.js';
export { runSelfTest } from './self-test.js';
