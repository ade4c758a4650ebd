/**
 * A size-bucketed pool of storage buffers. Freed buffers wait here for the next request of the same bucket
 * instead of going back to the driver, because creating buffers is slow and training repeats the same shapes.
 */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  /** Bytes of every buffer the pool created and still owns (in use or waiting). */
  bytesAllocated = 0;
  /** Bytes handed out and not yet returned. */
  bytesInUse = 0;
  peakBytesInUse = 0;
  buffersAllocated = 0;

  constructor(
    private device: GPUDevice,
    private usage: GPUBufferUsageFlags,
  ) {}

  /** Buckets grow by a quarter of a power of two, so that a request wastes at most ~19%. */
  static bucket(bytes: number): number {
    const min = 256;
    if (bytes <= min) return min;
    const p = 2 ** Math.floor(Math.log2(bytes));
    const quarter = p / 4;
    return Math.ceil(bytes / quarter) * quarter;
  }

  acquire(bytes: number): GPUBuffer {
    const size = BufferPool.bucket(bytes);
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (!buffer) {
      // Past the device's limit createBuffer fails only later, asynchronously, without saying how big the tensor was.
      const limit = this.device.limits.maxBufferSize;
      if (size > limit) {
        throw new RangeError(
          `nephron: out of GPU memory: a tensor of ${bytes} bytes (${(bytes / 2 ** 20).toFixed(1)} MiB) is over this ` +
            `device's maxBufferSize of ${limit} bytes. Try a smaller batch or tile size.`,
        );
      }
      buffer = this.device.createBuffer({ size, usage: this.usage });
      this.bytesAllocated += size;
      this.buffersAllocated++;
    }
    this.bytesInUse += size;
    if (this.bytesInUse > this.peakBytesInUse) this.peakBytesInUse = this.bytesInUse;
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    this.bytesInUse -= size;
    let list = this.free.get(size);
    if (!list) {
      list = [];
      this.free.set(size, list);
    }
    list.push(buffer);
  }

  /** Gives every waiting buffer back to the driver. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const buffer of list) {
        this.bytesAllocated -= buffer.size;
        this.buffersAllocated--;
        buffer.destroy();
      }
    }
    this.free.clear();
  }
}
