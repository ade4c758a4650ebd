import { ENCODERS } from '@nephron/hubmap';
import { formatProfile, ProfilingUnavailableError } from '@nephron/tensor';
import { openEngine } from '../engine.js';
import { ExitCode, type Host } from '../host/host.js';
import type { Progress } from '../host/progress.js';
import { benchModel, formatModelRows, type ModelRow, withTorch } from './model-bench.js';
import { type ModelRowSpec, parseModelRows } from './model-rows.js';
import { runTorchBench, type TorchOutcome } from './torch-bridge.js';

export interface BenchModelOptions {
  json?: boolean;
  rows: string;
  encoder: string;
  steps: string;
  profile?: boolean;
  torch: boolean;
  python: string;
  torchDevice: string;
}

/** What `bench model --json` prints. */
export interface ModelBenchReport {
  adapter: { description: string; software: boolean };
  encoder: string;
  parameters: number;
  steps: number;
  /** The rows that ran, in order (the defaults are issue 9's; `--rows` picks others). */
  rows_run: string[];
  ratio: 'ours_ms / torch_ms';
  cpu_ratio: 'ours_cpu_ms / torch_cpu_ms';
  torch: {
    available: boolean;
    version: string | null;
    device: string | null;
    threads: number | null;
    parameters: number | null;
    note: string | null;
  };
  rows: ModelRow[];
}

interface Checked {
  encoder: string;
  rows: ModelRowSpec[];
  steps: number;
}

function check(options: BenchModelOptions): Checked | string {
  const encoder = options.encoder.startsWith('efficientnet-')
    ? options.encoder
    : `efficientnet-${options.encoder}`;
  if (!ENCODERS.includes(encoder)) {
    return `--encoder "${options.encoder}" is not one of ${ENCODERS.join(', ')}`;
  }
  const steps = Number(options.steps);
  if (!Number.isInteger(steps) || steps < 1)
    return `--steps must be a positive integer, got "${options.steps}"`;
  if (!/^(cpu|cuda(:\d+)?)$/.test(options.torchDevice)) {
    return `--torch-device must be cpu or cuda, got "${options.torchDevice}"`;
  }
  try {
    return { encoder, rows: parseModelRows(options.rows), steps };
  } catch (error) {
    return (error as Error).message;
  }
}

/** `nephron bench model`: our figures first, then PyTorch's on the same CPU (never both at once). */
export async function benchModelCommand(host: Host, options: BenchModelOptions): Promise<ExitCode> {
  const checked = check(options);
  if (typeof checked === 'string') {
    host.stderr.write(`nephron bench model: ${checked}\n`);
    return ExitCode.usage;
  }
  const { encoder, rows, steps } = checked;
  const engine = await openEngine(host);
  if (options.profile && !engine.device.features.has('timestamp-query')) {
    host.stderr.write(
      `nephron bench model: ${new ProfilingUnavailableError('this device does not offer').message}; ` +
        'timing the rows without a profile\n',
    );
  }
  const profile = options.profile === true && engine.device.features.has('timestamp-query');
  host.stderr.write(`rows: ${rows.map((r) => r.name).join(', ')} (${encoder}, ${steps} timed steps each)\n`);
  let bar: Progress | null = null;
  const result = await benchModel({
    encoder,
    rows,
    steps,
    profile,
    onStep(row, step, total) {
      if (step === 0) bar = host.progress(`ours ${row.name}`, total, 'steps');
      bar?.update(step, step === 0 ? 'warm-up' : undefined);
    },
    onRowDone(row) {
      bar?.update(row.runs + 1);
      bar?.stop();
      bar = null;
      host.stderr.write(`  ours ${row.name}: ${row.ours_ms.toFixed(1)} ms\n`);
    },
  });
  const torch: TorchOutcome = options.torch
    ? await runTorchBench({
        python: options.python,
        encoder,
        rows: rows.map((r) => r.name),
        steps,
        device: options.torchDevice,
        onProgress: (text) => host.stderr.write(text),
      })
    : { ok: false, note: 'PyTorch comparison skipped (--no-torch)' };
  const report: ModelBenchReport = {
    adapter: {
      description: engine.gpu.info.description || engine.gpu.info.vendor,
      software: engine.gpu.info.isSoftware,
    },
    encoder,
    parameters: result.parameters,
    steps,
    rows_run: rows.map((r) => r.name),
    ratio: 'ours_ms / torch_ms',
    cpu_ratio: 'ours_cpu_ms / torch_cpu_ms',
    torch: torch.ok
      ? {
          available: true,
          version: torch.result.torch,
          device: torch.result.device,
          threads: torch.result.threads,
          parameters: torch.result.parameters,
          note: null,
        }
      : { available: false, version: null, device: null, threads: null, parameters: null, note: torch.note },
    rows: withTorch(result.rows, torch),
  };
  if (options.json) {
    host.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    host.stdout.write(formatReport(report));
  }
  return ExitCode.ok;
}

export function formatReport(report: ModelBenchReport): string {
  const lines = [
    `${report.adapter.description} (${report.adapter.software ? 'software' : 'hardware'})`,
    `UNet-${report.encoder}, ${report.parameters.toLocaleString('en-US')} parameters, 2 classes; ` +
      `median of ${report.steps} steps after a warm-up`,
  ];
  const t = report.torch;
  if (t.available) {
    lines.push(
      `PyTorch ${t.version} on ${t.device === 'cpu' ? `the CPU, ${t.threads} threads` : t.device}; ours/torch = ours_ms / torch_ms (above 1: slower than ` +
        'PyTorch); CPU ratio = the same for CPU time of all threads (steadier where others share the machine)',
    );
    if (t.parameters !== report.parameters) {
      lines.push(`warning: PyTorch's model has ${t.parameters} parameters, ours ${report.parameters}`);
    }
  } else {
    lines.push(t.note ?? 'PyTorch not available');
  }
  lines.push('', formatModelRows(report.rows));
  for (const row of report.rows) {
    if (row.profile)
      lines.push('', `profile of one ${row.name} step (GPU time per op type):`, formatProfile(row.profile));
  }
  return `${lines.join('\n')}\n`;
}
