// Exit 0 when Dawn (the `webgpu` package) finds an adapter whose device runs a tiny kernel correctly,
// 1 when it does not, 3 when the package is not installed yet. setup-software-gpu.sh runs it before the
// repository is built, so it talks to Dawn directly rather than through @nephron/tensor.
// It leaves by process.exitCode, never process.exit(): exiting while Dawn's threads run can crash.
import { createRequire } from 'node:module';

const EXPECTED = '1,4,7,10';
const SHADER = `@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) id: vec3u) { data[id.x] = id.x * 3u + 1u; }`;

async function loadDawn() {
  const require = createRequire(new URL('../../packages/tensor/package.json', import.meta.url));
  try {
    return await import(require.resolve('webgpu'));
  } catch {
    return undefined;
  }
}

async function runKernel(device) {
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: SHADER }), entryPoint: 'main' },
  });
  const data = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: data } }],
    }),
  );
  pass.dispatchWorkgroups(1);
  pass.end();
  encoder.copyBufferToBuffer(data, 0, read, 0, 16);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const values = [...new Uint32Array(read.getMappedRange())].join();
  read.unmap();
  return values;
}

let gpu;

async function probe() {
  const dawn = await loadDawn();
  if (!dawn) return 3;
  Object.assign(globalThis, dawn.globals);
  // Held in a module variable: once the GPU object is garbage-collected, pending callbacks crash Dawn.
  gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) return 1;
  const name = adapter.info?.description || adapter.info?.vendor || 'unknown adapter';
  try {
    const device = await adapter.requestDevice();
    const values = await runKernel(device);
    device.destroy();
    if (values === EXPECTED) {
      console.log(name);
      return 0;
    }
    console.error(`probe: ${name} computed ${values} instead of ${EXPECTED}`);
  } catch (error) {
    console.error(`probe: ${name} failed: ${error?.message ?? error}`);
  }
  return 1;
}

process.exitCode = await probe();
