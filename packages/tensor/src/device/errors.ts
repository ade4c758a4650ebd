/** Raised when no WebGPU adapter can be found; its message tells the user what to do next. */
export class NoAdapterError extends Error {
  override name = 'NoAdapterError';
}

/** Raised (and reported) when the GPU device is lost while nephron is using it. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** A WebGPU validation or out-of-memory error that escaped to the device's uncaptured-error handler. */
export class GpuError extends Error {
  override name = 'GpuError';
}

export const SOFTWARE_GPU_HELP = [
  'No WebGPU adapter was found.',
  'On a machine without a GPU, nephron runs on Mesa’s lavapipe (a Vulkan driver on the CPU). On Debian 12 as root:',
  '  bash scripts/setup-software-gpu.sh',
  'which does:',
  '  echo "deb http://deb.debian.org/debian bookworm-backports main" > /etc/apt/sources.list.d/bookworm-backports.list',
  '  apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1',
  'On Ubuntu 24.04 or newer: apt-get install -y mesa-vulkan-drivers libvulkan1.',
  'With a real GPU: install its Vulkan driver (NVIDIA: the proprietary driver; AMD/Intel: mesa-vulkan-drivers) and check with `vulkaninfo --summary`.',
  'In a browser: use a recent Chrome or Edge (WebGPU on by default) or pass --enable-unsafe-webgpu.',
].join('\n');
