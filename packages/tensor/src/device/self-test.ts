export interface SelfTestResult {
  ok: boolean;
  /** What the kernel computed and what it should have. */
  expected: number[];
  actual: number[];
  milliseconds: number;
}

const SELF_TEST_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i < arrayLength(&out)) { out[i] = a[i] * b[i] + f32(i); }
}`;

/**
 * Runs one tiny WGSL kernel end to end (upload, dispatch, read back) and checks every element,
 * so that "the GPU works" means that a real computation came back right.
 */
export async function runSelfTest(device: GPUDevice, n = 1000): Promise<SelfTestResult> {
  const start = performance.now();
  const a = Float32Array.from({ length: n }, (_, i) => (i % 17) - 8);
  const b = Float32Array.from({ length: n }, (_, i) => ((i * 7) % 13) / 4);
  const expected = Array.from(a, (x, i) => Math.fround(Math.fround(x * b[i]) + i));
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const make = (data: Float32Array<ArrayBuffer>) => {
    const buffer = device.createBuffer({ size: data.byteLength, usage });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const bufA = make(a);
  const bufB = make(b);
  const out = device.createBuffer({ size: n * 4, usage });
  const read = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: SELF_TEST_WGSL }), entryPoint: 'main' },
  });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [bufA, bufB, out].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(Math.ceil(n / 64));
  pass.end();
  encoder.copyBufferToBuffer(out, 0, read, 0, n * 4);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const actual = Array.from(new Float32Array(read.getMappedRange().slice(0)));
  read.unmap();
  for (const buffer of [bufA, bufB, out, read]) buffer.destroy();
  const ok = actual.length === expected.length && actual.every((v, i) => v === expected[i]);
  return { ok, expected, actual, milliseconds: performance.now() - start };
}
