import { createSegmentationModel, type SegmentationNetwork } from '@nephron/hubmap';
import { AdamW, ceDiceLoss } from '@nephron/nn';
import {
  getEngine,
  keep,
  noGrad,
  type ProfileRow,
  randn,
  startProfiling,
  stopProfiling,
  type Tensor,
  tidy,
} from '@nephron/tensor';
import type { ModelRowSpec } from './model-rows.js';
import type { TorchOutcome } from './torch-bridge.js';

/** One row of `nephron bench model`, in the style of `bench kernels`' rows. */
export interface ModelRow {
  name: string;
  kind: 'train' | 'infer';
  batch: number;
  size: number;
  /** Median milliseconds of one training step (forward, CE + Dice, backward, AdamW) or one forward pass. */
  ours_ms: number;
  torch_ms: number | null;
  /** ours_ms / torch_ms: how many times longer we take than PyTorch on the CPU (below 1: faster). */
  ratio: number | null;
  /**
   * Median CPU milliseconds (all threads of the process) of one step: on a shared machine, where wall time
   * depends on who else runs, this is the steadier measure of work; the software GPU's threads count in ours.
   * Null where the host cannot tell (a browser).
   */
  ours_cpu_ms: number | null;
  torch_cpu_ms: number | null;
  /** ours_cpu_ms / torch_cpu_ms. */
  cpu_ratio: number | null;
  /** Images per second: tiles/s for inference rows, training images/s for training rows. */
  ours_images_per_s: number;
  torch_images_per_s: number | null;
  /** The most GPU memory live tensors held during the row (weights, optimizer state, activations). */
  peak_gpu_bytes: number;
  runs: number;
  /** GPU time per op type of one more step, with `--profile`. */
  profile?: ProfileRow[];
}

export interface ModelBenchOptions {
  encoder: string;
  classes?: number;
  rows: readonly ModelRowSpec[];
  /** Timed steps per row after the warm-up; the median is kept. */
  steps: number;
  /** Time one more step per row under the GPU profiler. */
  profile?: boolean;
  /** Called before each step: row, step (0 is the warm-up), total steps of the row. */
  onStep?: (row: ModelRowSpec, step: number, total: number) => void;
  onRowDone?: (row: ModelRow) => void;
}

export interface ModelBenchResult {
  encoder: string;
  parameters: number;
  rows: ModelRow[];
}

/** A segmentation target with foreground and background, so the Dice term does real work. */
function randomTarget(n: number, size: number): Tensor {
  return tidy(() => randn([n, size, size]).gt(0).to('int32'));
}

/** One step of what the row measures, ending when the GPU has finished it. */
function stepper(spec: ModelRowSpec, model: SegmentationNetwork): { step(): Promise<void>; dispose(): void } {
  const x = randn([spec.batch, 3, spec.size, spec.size]);
  if (spec.kind === 'infer') {
    model.eval();
    return {
      async step() {
        const out = noGrad(() => tidy(() => keep(model.forward(x))));
        await getEngine().sync();
        out.dispose();
      },
      dispose: () => x.dispose(),
    };
  }
  model.train();
  const target = randomTarget(spec.batch, spec.size);
  const optimizer = new AdamW(model.parameters(), { lr: 1e-3 });
  return {
    // As the trainer does it: the loss is read back, so the step is over when it returns.
    async step() {
      const loss = tidy(() => {
        const l = ceDiceLoss(model.forward(x), target);
        l.backward();
        optimizer.step();
        optimizer.zeroGrad();
        return keep(l.detach());
      });
      await loss.item();
      loss.dispose();
      await getEngine().sync();
    },
    dispose() {
      optimizer.dispose();
      x.dispose();
      target.dispose();
    },
  };
}

/** CPU time of this process so far, in ms, or null outside Node. */
function cpuMs(): number | null {
  const usage = typeof process !== 'undefined' ? process.cpuUsage?.() : undefined;
  return usage ? (usage.user + usage.system) / 1000 : null;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Times each row on a fresh model (so one row's optimizer state and gradients do not count in the next row's
 * peak memory): one warm-up step that also compiles the pipelines, then `steps` timed steps.
 */
export async function benchModel(options: ModelBenchOptions): Promise<ModelBenchResult> {
  const engine = getEngine();
  const rows: ModelRow[] = [];
  let parameters = 0;
  for (const spec of options.rows) {
    const model = createSegmentationModel(options.encoder, options.classes ?? 2);
    parameters = model.numParameters();
    const total = options.steps + 1;
    const samples: number[] = [];
    const cpuSamples: number[] = [];
    let profile: ProfileRow[] | undefined;
    const run = stepper(spec, model);
    try {
      await engine.sync();
      engine.resetPeakMemoryStats();
      for (let i = 0; i < total; i++) {
        options.onStep?.(spec, i, total);
        const start = performance.now();
        const cpuStart = cpuMs();
        await run.step();
        const cpuEnd = cpuMs();
        if (i > 0) {
          samples.push(performance.now() - start);
          if (cpuStart !== null && cpuEnd !== null) cpuSamples.push(cpuEnd - cpuStart);
        }
      }
      if (options.profile) {
        startProfiling(engine);
        try {
          await run.step();
        } finally {
          profile = await stopProfiling(engine);
        }
      }
    } finally {
      run.dispose();
      model.dispose();
    }
    const ms = median(samples);
    const row: ModelRow = {
      name: spec.name,
      kind: spec.kind,
      batch: spec.batch,
      size: spec.size,
      ours_ms: ms,
      torch_ms: null,
      ratio: null,
      ours_cpu_ms: cpuSamples.length > 0 ? median(cpuSamples) : null,
      torch_cpu_ms: null,
      cpu_ratio: null,
      ours_images_per_s: (1000 * spec.batch) / ms,
      torch_images_per_s: null,
      peak_gpu_bytes: engine.memoryStats().peakBytesInUse,
      runs: samples.length,
      ...(profile ? { profile } : {}),
    };
    rows.push(row);
    options.onRowDone?.(row);
  }
  return { encoder: options.encoder, parameters, rows };
}

/** Fills in PyTorch's figures for the rows it measured. */
export function withTorch(rows: readonly ModelRow[], torch: TorchOutcome): ModelRow[] {
  if (!torch.ok) return [...rows];
  return rows.map((r) => {
    const t = torch.result.rows.find((tr) => tr.name === r.name);
    if (!t) return r;
    return {
      ...r,
      torch_ms: t.ms,
      ratio: r.ours_ms / t.ms,
      torch_cpu_ms: t.cpuMs,
      cpu_ratio: r.ours_cpu_ms !== null && t.cpuMs !== null ? r.ours_cpu_ms / t.cpuMs : null,
      torch_images_per_s: (1000 * r.batch) / t.ms,
    };
  });
}

const fmt = (v: number | null, digits = 1) => (v === null ? '—' : v.toFixed(digits));

export function formatModelRows(rows: readonly ModelRow[]): string {
  const header = [
    'row'.padEnd(14),
    'ours ms'.padStart(11),
    'torch ms'.padStart(11),
    'ours/torch'.padStart(11),
    'CPU ratio'.padStart(10),
    'ours img/s'.padStart(11),
    'torch img/s'.padStart(12),
    'peak GPU MiB'.padStart(13),
  ].join(' ');
  const lines = [header];
  for (const r of rows) {
    lines.push(
      [
        r.name.padEnd(14),
        fmt(r.ours_ms).padStart(11),
        fmt(r.torch_ms).padStart(11),
        fmt(r.ratio, 2).padStart(11),
        fmt(r.cpu_ratio, 2).padStart(10),
        fmt(r.ours_images_per_s, 2).padStart(11),
        fmt(r.torch_images_per_s, 2).padStart(12),
        (r.peak_gpu_bytes / 2 ** 20).toFixed(0).padStart(13),
      ].join(' '),
    );
  }
  return lines.join('\n');
}
