import type { NephronDevice, RequestDeviceOptions } from '../device/device.js';
import { requestDevice } from '../device/device.js';
import { type Kernel, packUniforms, UNIFORM_SLOT_BYTES, UNIFORM_WORDS, type UniformValue } from './kernel.js';
import { BufferPool } from './pool.js';
import type { Profiler } from './profiler.js';

/** How many dispatches share one command encoder before it is submitted. */
const DISPATCHES_PER_SUBMIT = 512;

export interface MemoryStats {
  /** Bytes of GPU buffers the engine holds, in use or pooled. */
  bytesAllocated: number;
  /** Bytes held by live tensors. */
  bytesInUse: number;
  peakBytesInUse: number;
  buffers: number;
  liveTensors: number;
}

export interface BufferBinding {
  buffer: GPUBuffer;
}

/**
 * The engine owns one device and everything shared by all tensors on it: compiled pipelines (cached by WGSL
 * source), the buffer pool, and the open command encoder that batches dispatches until something must be read.
 */
export class Engine {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  liveTensors = 0;
  dispatchCount = 0;
  submitCount = 0;
  /** Set while profiling (see profiler.ts); null costs nothing. */
  profiler: Profiler | null = null;
  readonly dispatchesPerSubmit = DISPATCHES_PER_SUBMIT;
  private pipelines = new Map<string, GPUComputePipeline>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniformBuffer: GPUBuffer;
  private uniformData = new Uint32Array(DISPATCHES_PER_SUBMIT * UNIFORM_WORDS);
  private uniformSlots = 0;
  private staging: GPUBuffer[] = [];

  /**
   * Whether tensor buffers may also be bound as uniform-buffer windows (kernels with 'uniform' bindings): on
   * llvmpipe only, where gathers from uniform buffers are the cheapest per-lane reads (ops/matmul/panel-kernel.ts).
   */
  readonly uniformWindows: boolean;

  constructor(readonly gpu: NephronDevice) {
    this.device = gpu.device;
    this.uniformWindows = gpu.info.isLlvmpipe;
    const uniform = this.uniformWindows ? GPUBufferUsage.UNIFORM : 0;
    this.pool = new BufferPool(
      this.device,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | uniform,
    );
    this.uniformBuffer = this.device.createBuffer({
      size: DISPATCHES_PER_SUBMIT * UNIFORM_SLOT_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  get hasF16(): boolean {
    return this.device.features.has('shader-f16');
  }

  get maxBindingBytes(): number {
    return this.device.limits.maxStorageBufferBindingSize;
  }

  private checkAlive(): void {
    if (this.gpu.lost) throw this.gpu.lost;
  }

  pipeline(kernel: Kernel): GPUComputePipeline {
    let pipeline = this.pipelines.get(kernel.code);
    if (!pipeline) {
      const module = this.device.createShaderModule({ code: kernel.code, label: kernel.name });
      pipeline = this.device.createComputePipeline({
        label: kernel.name,
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
      });
      this.pipelines.set(kernel.code, pipeline);
    }
    return pipeline;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /**
   * Records one dispatch. `buffers` bind to 1..n in the kernel's order (a whole buffer, or a sub-range of one
   * for tensors larger than a binding may be); `uniforms` fill binding 0.
   * Nothing reaches the GPU until {@link flush}, which a read does for you.
   */
  dispatch(
    kernel: Kernel,
    buffers: readonly (GPUBuffer | GPUBufferBinding)[],
    uniforms: readonly UniformValue[],
    workgroups: readonly [number, number?, number?],
  ): void {
    this.checkAlive();
    if (buffers.length !== kernel.bindings.length) {
      throw new Error(`kernel ${kernel.name} binds ${kernel.bindings.length} buffers, got ${buffers.length}`);
    }
    // A binding over the device's limit would only fail later, asynchronously and without naming the kernel.
    const resources = buffers.map((b, i) => {
      const resource = 'buffer' in b ? b : { buffer: b };
      const bytes = resource.size ?? resource.buffer.size - (resource.offset ?? 0);
      const uniform = kernel.bindings[i] === 'uniform';
      const limit = uniform ? this.device.limits.maxUniformBufferBindingSize : this.maxBindingBytes;
      if (bytes > limit) {
        throw new RangeError(
          `kernel ${kernel.name}: ${uniform ? 'uniform' : 'storage'} binding ${i + 1} is ${bytes} bytes, over ` +
            `this device's max${uniform ? 'Uniform' : 'Storage'}BufferBindingSize of ${limit} bytes`,
        );
      }
      return resource;
    });
    const [x, y = 1, z = 1] = workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new RangeError(`kernel ${kernel.name}: ${x}x${y}x${z} workgroups exceed the device limit ${max}`);
    }
    if (this.uniformSlots === DISPATCHES_PER_SUBMIT || this.profiler?.full) this.flush();
    const pipeline = this.pipeline(kernel);
    const slot = this.uniformSlots++;
    packUniforms(uniforms, this.uniformData, slot * UNIFORM_WORDS);
    const entries: GPUBindGroupEntry[] = [
      {
        binding: 0,
        resource: { buffer: this.uniformBuffer, offset: slot * UNIFORM_SLOT_BYTES, size: UNIFORM_SLOT_BYTES },
      },
    ];
    resources.forEach((resource, i) => {
      entries.push({ binding: i + 1, resource });
    });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.profiler ? this.profiler.beginPass(this.endPass(), kernel.name) : this.openPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) pass.end();
    this.dispatchCount++;
  }

  /** Workgroup counts for `n` threads of `size` each, spilling into y past the per-dimension limit. */
  grid(n: number, size: number): [number, number] {
    const groups = Math.ceil(n / size);
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= max) return [groups, 1];
    const y = Math.ceil(groups / max);
    return [Math.ceil(groups / y), y];
  }

  private openPass(): GPUComputePassEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    return this.pass;
  }

  private endPass(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return this.encoder;
  }

  /** Copies bytes between buffers in stream order with the recorded dispatches. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.checkAlive();
    if (bytes === 0) return;
    this.endPass().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    const encoder = this.endPass();
    if (this.uniformSlots > 0) {
      this.device.queue.writeBuffer(
        this.uniformBuffer,
        0,
        this.uniformData,
        0,
        this.uniformSlots * UNIFORM_WORDS,
      );
    }
    this.profiler?.resolve(encoder);
    this.device.queue.submit([encoder.finish()]);
    this.profiler?.submitted();
    this.encoder = null;
    this.uniformSlots = 0;
    this.submitCount++;
  }

  /**
   * Uploads bytes. Pending dispatches are submitted first, because `writeBuffer` overtakes unsubmitted work and
   * a pooled buffer may still be read by it.
   */
  write(buffer: GPUBuffer, offset: number, data: ArrayBufferView<ArrayBuffer>): void {
    this.checkAlive();
    this.flush();
    const bytes = data.byteLength;
    if (bytes % 4 === 0) {
      this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, bytes);
    } else {
      const padded = new Uint8Array(Math.ceil(bytes / 4) * 4);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, bytes));
      this.device.queue.writeBuffer(buffer, offset, padded);
    }
  }

  /** Reads bytes back; the only place the CPU waits for the GPU. */
  async read(buffer: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    this.checkAlive();
    const alignedOffset = offset - (offset % 4);
    const alignedBytes = Math.ceil((bytes + offset - alignedOffset) / 4) * 4;
    const size = BufferPool.bucket(alignedBytes);
    const index = this.staging.findIndex((b) => b.size === size);
    const staging =
      index >= 0
        ? this.staging.splice(index, 1)[0]
        : this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.endPass().copyBufferToBuffer(buffer, alignedOffset, staging, 0, alignedBytes);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, alignedBytes);
    } catch (error) {
      await this.settleLoss();
      this.checkAlive();
      throw error;
    }
    this.throwReportedErrors();
    const start = offset - alignedOffset;
    const out = staging.getMappedRange(0, alignedBytes).slice(start, start + bytes);
    staging.unmap();
    if (this.staging.length < 8) this.staging.push(staging);
    else staging.destroy();
    return out;
  }

  /** Waits until the GPU has finished everything submitted. */
  async sync(): Promise<void> {
    this.checkAlive();
    this.flush();
    try {
      await this.device.queue.onSubmittedWorkDone();
    } catch (error) {
      await this.settleLoss();
      this.checkAlive();
      throw error;
    }
    this.checkAlive();
    this.throwReportedErrors();
  }

  /**
   * A failed map or wait is how a lost device first shows; its `lost` promise settles a moment later. Wait for
   * it (briefly: a failure for another reason must not hang) so that the caller sees the DeviceLostError.
   */
  private async settleLoss(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1000);
    });
    await Promise.race([this.device.lost.then(() => undefined), timeout]);
    clearTimeout(timer);
  }

  private errorsSeen = 0;

  /**
   * WebGPU reports invalid shaders and dispatches asynchronously; the first read after one fails with it
   * rather than returning garbage.
   */
  private throwReportedErrors(): void {
    const errors = this.gpu.errors;
    if (errors.length > this.errorsSeen) {
      const first = errors[this.errorsSeen];
      this.errorsSeen = errors.length;
      throw first;
    }
  }

  /** Starts measuring `peakBytesInUse` again from what is in use now. */
  resetPeakMemoryStats(): void {
    this.pool.peakBytesInUse = this.pool.bytesInUse;
  }

  memoryStats(): MemoryStats {
    return {
      bytesAllocated: this.pool.bytesAllocated,
      bytesInUse: this.pool.bytesInUse,
      peakBytesInUse: this.pool.peakBytesInUse,
      buffers: this.pool.buffersAllocated,
      liveTensors: this.liveTensors,
    };
  }

  destroy(): void {
    this.flush();
    this.pool.trim();
    for (const b of this.staging) b.destroy();
    this.uniformBuffer.destroy();
    this.device.destroy();
  }
}

let current: Engine | null = null;
let pending: Promise<Engine> | null = null;

/** Opens the default device and engine once; later calls return the same engine. */
export async function init(options: RequestDeviceOptions = {}): Promise<Engine> {
  if (current) return current;
  pending ??= requestDevice(options).then((gpu) => {
    current = new Engine(gpu);
    return current;
  });
  return pending;
}

/** Makes `engine` the default, e.g. one built on a device the application already has. */
export function setEngine(engine: Engine | null): void {
  current = engine;
  pending = engine ? Promise.resolve(engine) : null;
}

export function getEngine(): Engine {
  if (!current) throw new Error('nephron: no GPU engine yet; call `await init()` from @nephron/tensor first');
  return current;
}

export function memoryStats(): MemoryStats {
  return getEngine().memoryStats();
}
