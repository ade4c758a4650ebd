import { DeviceLostError, GpuError, NoAdapterError, SOFTWARE_GPU_HELP } from './errors.js';
import { pickFeatures, pickLimits } from './features.js';
import { getGpu } from './gpu.js';

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Backend the adapter runs on where the host reports it (Dawn does: "vulkan", "metal", "d3d12"). */
  backend: string;
  /** True for CPU implementations such as lavapipe or SwiftShader. */
  isSoftware: boolean;
  /**
   * Mesa's llvmpipe (lavapipe), the CPU driver kernels were measured on and tuned for: it reads lane by lane inside
   * loops, and its shader compiler copes with large register blocks that SwiftShader's does not.
   */
  isLlvmpipe: boolean;
}

export interface NephronDevice {
  device: GPUDevice;
  adapter: GPUAdapter;
  info: AdapterDescription;
  features: string[];
  limits: Record<string, number>;
  /** Errors the device reported outside any error scope, newest last. */
  errors: GpuError[];
  /** Set once the device is lost; every later use should throw it. */
  lost?: DeviceLostError;
}

export interface RequestDeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Ask for no optional feature (to test the fallback paths). */
  noOptionalFeatures?: boolean;
  /** Called for every uncaptured device error; by default they are printed to stderr. */
  onError?: (error: GpuError) => void;
  /** Called when the device is lost for a reason other than `destroy()`. */
  onLost?: (error: DeviceLostError) => void;
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const raw = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info ?? ({} as GPUAdapterInfo);
  const info = raw as GPUAdapterInfo & { backendType?: string; type?: string };
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const isSoftware =
    /llvmpipe|lavapipe|swiftshader|software|warp/.test(text) || info.type === 'CPU' || info.type === 'cpu';
  const isLlvmpipe = /llvmpipe|lavapipe/.test(text);
  return {
    vendor,
    architecture,
    device,
    description,
    backend: info.backendType ?? '',
    isSoftware,
    isLlvmpipe,
  };
}

/**
 * One call for a ready `GPUDevice` on any host, with the adapter's real limits and nephron's optional
 * features, and with errors and device loss reported instead of silently swallowed.
 */
export async function requestDevice(options: RequestDeviceOptions = {}): Promise<NephronDevice> {
  const gpu = await getGpu();
  const adapter = await gpu.requestAdapter({
    powerPreference: options.powerPreference ?? 'high-performance',
  });
  if (!adapter) throw new NoAdapterError(SOFTWARE_GPU_HELP);
  const features = options.noOptionalFeatures ? [] : pickFeatures(adapter);
  const limits = pickLimits(adapter);
  const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits: limits });
  const result: NephronDevice = {
    device,
    adapter,
    info: describeAdapter(adapter),
    features: [...device.features].map(String).sort(),
    limits: { ...limits },
    errors: [],
  };
  device.onuncapturederror = (event: GPUUncapturedErrorEvent) => {
    // Out-of-memory is the one error a user can fix by asking for less; say how.
    const outOfMemory =
      event.error.constructor?.name === 'GPUOutOfMemoryError' ||
      /out of memory|OutOfMemory/i.test(event.error.message);
    const error = new GpuError(
      outOfMemory
        ? `the GPU ran out of memory (${event.error.message}); try a smaller --batch-size or --tile`
        : `WebGPU error: ${event.error.message}`,
    );
    result.errors.push(error);
    (options.onError ?? ((e: GpuError) => console.error(`nephron: ${e.message}`)))(error);
  };
  device.lost.then((info) => {
    // A destroyed device is as gone as a lost one: later use must fail with this error, not a bare AbortError.
    // Only a loss nobody asked for is reported to onLost.
    const destroyed = info.reason === 'destroyed';
    const error = new DeviceLostError(
      `The GPU device was ${destroyed ? 'destroyed' : `lost (${info.reason})`}${info.message ? `: ${info.message}` : ''}. ` +
        'Its tensors are gone; restart the run (training resumes from last.safetensors with --resume). ' +
        'If it happens again, try a smaller batch or tile size; on a laptop, keep the GPU from sleeping.',
      String(info.reason),
    );
    result.lost = error;
    if (!destroyed)
      (options.onLost ?? ((e: DeviceLostError) => console.error(`nephron: ${e.message}`)))(error);
  });
  return result;
}
