import type { Engine } from './engine.js';

/** GPU time of one kind of operation over a profiled stretch of work. */
export interface ProfileRow {
  /** The op type (see {@link opType}): "conv2d depthwise", "batchnorm", "elementwise", ... */
  op: string;
  /** Dispatches of this type. */
  count: number;
  totalMs: number;
  /** Share of all profiled GPU time, 0..100. */
  percent: number;
  meanUs: number;
}

/** Why profiling cannot run on this device: it lacks `timestamp-query`. */
export class ProfilingUnavailableError extends Error {
  constructor(detail: string) {
    super(`GPU profiling needs the WebGPU feature "timestamp-query", which ${detail}`);
    this.name = 'ProfilingUnavailableError';
  }
}

/**
 * The op type a kernel belongs to, from its name. Kernel names carry their variant and tile shape
 * ("conv2d_direct_forward_3x3_…", "conv2d_depthwise_dx_…"); a profile is read by kind of work, so the
 * shape and tile parts are dropped and the many elementwise maps share one row.
 */
export function opType(kernel: string): string {
  const rules: [RegExp, string][] = [
    [/^conv2d_depthwise_dx/, 'conv2d depthwise backward input'],
    [/^conv2d_depthwise_dw/, 'conv2d depthwise backward weight'],
    [/^conv2d_depthwise/, 'conv2d depthwise'],
    [/^conv2d_direct_(\w+?)_\d/, 'conv2d direct $1'],
    [/^conv2d_gradWeight_subgroups/, 'conv2d subgroups gradWeight'],
    [/^conv2d_bias_grad/, 'conv2d bias gradient'],
    [/^conv2d_reduce/, 'conv2d partial-sum reduce'],
    [/^conv2d_(\w+?)_\d+x\d+/, 'conv2d gemm $1'],
    [/^conv2d/, 'conv2d other'],
    [/^matmul/, 'matmul'],
    [/^(batch_norm|running_)/, 'batchnorm'],
    [/^(adamw|sgd)/, 'optimizer'],
    [/^reduce_|^(sum|mean|moments|count)(_|$)/, 'reduce'],
    [/(max|avg)_pool|adaptive_avg|global_avg/, 'pool'],
    [/^interpolate/, 'interpolate'],
    [/^(ce|nll|cross_?entropy|softmax|log_softmax|dice|one_hot)(_|$)/i, 'loss / softmax'],
    [/^(copy|pad|gather|fill|where|cat|slice)(_|$)/, 'copy / layout'],
    [/^random_/, 'random'],
  ];
  for (const [pattern, label] of rules) {
    const match = pattern.exec(kernel);
    if (match) return label.replace('$1', match[1] ?? '');
  }
  return 'elementwise';
}

interface Batch {
  readback: GPUBuffer;
  labels: string[];
}

/**
 * Times every dispatch with `timestamp-query`. WebGPU writes timestamps only at the start and end of a pass,
 * so while profiling the engine gives each dispatch a pass of its own (costing some overlap, which is why
 * profiling is off by default). Each command encoder's timestamps are resolved into a buffer before it is
 * submitted and read back asynchronously, so recording never waits for the GPU.
 */
export class Profiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private readonly spareReadbacks: GPUBuffer[] = [];
  private labels: string[] = [];
  private resolved: Batch | null = null;
  private pending: Promise<void>[] = [];
  /** Nanoseconds and dispatch count per kernel name. */
  private readonly totals = new Map<string, { ns: number; count: number }>();

  constructor(
    private readonly device: GPUDevice,
    /** Most dispatches one command encoder records; the engine submits before exceeding it. */
    readonly capacity: number,
  ) {
    if (!device.features.has('timestamp-query')) {
      throw new ProfilingUnavailableError(
        'this device does not offer (WebGPU without it, or an adapter that lacks it)',
      );
    }
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity, label: 'profiler' });
    this.resolveBuffer = device.createBuffer({
      size: 16 * capacity,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
  }

  get full(): boolean {
    return this.labels.length >= this.capacity;
  }

  /** Opens a pass on `encoder` for one dispatch of `kernel`, with timestamps at its start and end. */
  beginPass(encoder: GPUCommandEncoder, kernel: string): GPUComputePassEncoder {
    const index = this.labels.length;
    this.labels.push(kernel);
    return encoder.beginComputePass({
      timestampWrites: {
        querySet: this.querySet,
        beginningOfPassWriteIndex: 2 * index,
        endOfPassWriteIndex: 2 * index + 1,
      },
    });
  }

  /** Records, at the end of `encoder`, the copy of this encoder's timestamps to a mappable buffer. */
  resolve(encoder: GPUCommandEncoder): void {
    const n = this.labels.length;
    if (n === 0) return;
    const readback =
      this.spareReadbacks.pop() ??
      this.device.createBuffer({
        size: 16 * this.capacity,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, readback, 0, 16 * n);
    this.resolved = { readback, labels: this.labels };
    this.labels = [];
  }

  /** Called once the encoder is submitted: starts reading its timestamps back. */
  submitted(): void {
    const batch = this.resolved;
    if (!batch) return;
    this.resolved = null;
    const bytes = 16 * batch.labels.length;
    this.pending.push(
      batch.readback.mapAsync(GPUMapMode.READ, 0, bytes).then(() => {
        const stamps = new BigUint64Array(batch.readback.getMappedRange(0, bytes));
        batch.labels.forEach((label, i) => {
          // A clock that steps backwards (some drivers reset it per submit) gives no usable time; count it as 0.
          const ns = stamps[2 * i + 1] > stamps[2 * i] ? Number(stamps[2 * i + 1] - stamps[2 * i]) : 0;
          const entry = this.totals.get(label);
          if (entry) {
            entry.ns += ns;
            entry.count++;
          } else {
            this.totals.set(label, { ns, count: 1 });
          }
        });
        batch.readback.unmap();
        this.spareReadbacks.push(batch.readback);
      }),
    );
  }

  /** Waits for every submitted timestamp and returns nanoseconds and counts per kernel name. */
  async kernels(): Promise<Map<string, { ns: number; count: number }>> {
    while (this.pending.length > 0) {
      const waiting = this.pending;
      this.pending = [];
      await Promise.all(waiting);
    }
    return new Map(this.totals);
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
    for (const b of this.spareReadbacks) b.destroy();
  }
}

/** Rows per op type, the largest total first. */
export function profileRows(kernels: ReadonlyMap<string, { ns: number; count: number }>): ProfileRow[] {
  const byOp = new Map<string, { ns: number; count: number }>();
  let totalNs = 0;
  for (const [name, { ns, count }] of kernels) {
    const op = opType(name);
    const entry = byOp.get(op) ?? { ns: 0, count: 0 };
    entry.ns += ns;
    entry.count += count;
    byOp.set(op, entry);
    totalNs += ns;
  }
  return [...byOp]
    .map(([op, { ns, count }]) => ({
      op,
      count,
      totalMs: ns / 1e6,
      percent: totalNs > 0 ? (100 * ns) / totalNs : 0,
      meanUs: ns / 1e3 / count,
    }))
    .sort((a, b) => b.totalMs - a.totalMs);
}

export function formatProfile(rows: readonly ProfileRow[]): string {
  const lines = [
    `${'op type'.padEnd(34)} ${'count'.padStart(8)} ${'total ms'.padStart(11)} ${'%'.padStart(6)} ${'mean µs'.padStart(10)}`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.op.padEnd(34)} ${String(r.count).padStart(8)} ${r.totalMs.toFixed(1).padStart(11)} ${r.percent.toFixed(1).padStart(6)} ${r.meanUs.toFixed(1).padStart(10)}`,
    );
  }
  const total = rows.reduce((s, r) => s + r.totalMs, 0);
  lines.push(
    `${'total'.padEnd(34)} ${String(rows.reduce((s, r) => s + r.count, 0)).padStart(8)} ${total.toFixed(1).padStart(11)}`,
  );
  return lines.join('\n');
}

/**
 * Starts timing every dispatch of `engine` (see {@link Profiler}). Throws {@link ProfilingUnavailableError}
 * where the device lacks `timestamp-query`.
 */
export function startProfiling(engine: Engine): void {
  if (engine.profiler) return;
  // Work recorded before now belongs to no profile: submit it so that its dispatches are not timed.
  engine.flush();
  engine.profiler = new Profiler(engine.device, engine.dispatchesPerSubmit);
}

/** Stops profiling and returns the time per op type of everything dispatched since {@link startProfiling}. */
export async function stopProfiling(engine: Engine): Promise<ProfileRow[]> {
  const profiler = engine.profiler;
  if (!profiler) throw new Error('stopProfiling: the engine is not profiling; call startProfiling first');
  engine.flush();
  engine.profiler = null;
  const kernels = await profiler.kernels();
  profiler.destroy();
  return profileRows(kernels);
}
