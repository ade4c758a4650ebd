export { assertClose, type Tolerance } from './assert.js';
export { type CpuTensor, cpuBroadcast, cpuTensor, flatIndex, randomCpu, rng } from './cpu-tensor.js';
export { checkOp, type GradCheck } from './gradcheck.js';
