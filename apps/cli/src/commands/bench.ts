import type { Command } from 'commander';
import { benchKernels, formatKernelRows, type KernelRow } from '../bench/kernel-bench.js';
import { type BenchModelOptions, benchModelCommand } from '../bench/model-command.js';
import { DEFAULT_MODEL_ROWS } from '../bench/model-rows.js';
import { DEFAULT_PYTHON } from '../bench/torch-bridge.js';
import type { CommandContext } from '../context.js';
import { openEngine } from '../engine.js';
import { ExitCode } from '../host/host.js';

interface BenchKernelOptions {
  json?: boolean;
  tfjs?: boolean;
  minMs?: string;
  rows?: string;
  readback?: boolean;
}

export function registerBench(program: Command, context: CommandContext): void {
  const bench = program.command('bench').description('measure kernel and model throughput on this GPU');
  bench
    .command('kernels')
    .description('GFLOP/s of matmul and the convolutions of EfficientNet-B4/UNet, ours next to tfjs-webgpu')
    .option('--json', 'print the rows as JSON: [{name, ours_gflops, tfjs_gflops, ratio}, ...]')
    .option('--no-tfjs', 'skip the tfjs-webgpu comparison')
    .option('--min-ms <ms>', 'time each row for at least this long', '1000')
    .option('--rows <text>', 'only the rows whose name contains this text (e.g. matmul, depthwise)')
    .option(
      '--readback',
      'end each run by reading the result back (both sides), not by waiting for the GPU queue to drain',
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron bench kernels',
        '  $ nephron bench kernels --json --min-ms 3000',
        '  $ nephron bench kernels --rows matmul --min-ms 1',
      ].join('\n'),
    )
    .action(async (options: BenchKernelOptions) => {
      const { host } = context;
      const minMs = Number(options.minMs);
      if (!(minMs > 0)) {
        host.stderr.write(
          `nephron bench kernels: --min-ms must be a positive number, got "${options.minMs}"\n`,
        );
        context.setExitCode(ExitCode.usage);
        return;
      }
      const engine = await openEngine(host);
      const rows: KernelRow[] = await benchKernels({
        tfjs: options.tfjs,
        minMs,
        rows: options.rows,
        readback: options.readback,
        onRow: options.json
          ? undefined
          : (r) => host.stderr.write(`  ${r.name}: ${r.ours_gflops.toFixed(2)} GFLOP/s\n`),
      });
      if (options.json) {
        host.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      } else {
        const adapter = engine.gpu.info;
        host.stdout.write(
          `${adapter.description || adapter.vendor} (${adapter.isSoftware ? 'software' : 'hardware'})\n`,
        );
        host.stdout.write(`${formatKernelRows(rows)}\n`);
      }
    });
  bench
    .command('model')
    .description(
      'UNet-EfficientNet training step and inference speed and peak GPU memory, next to PyTorch on the CPU',
    )
    .option(
      '--json',
      'print one JSON object: {rows: [{name, ours_ms, torch_ms, ratio, peak_gpu_bytes, ...}], ...}',
    )
    .option(
      '--rows <names>',
      'comma-separated rows: train-NxS (a training step on N images of S×S) or infer-NxS (N tiles)',
      DEFAULT_MODEL_ROWS,
    )
    .option('--encoder <name>', 'efficientnet-b0 … efficientnet-b7 (or b0 … b7)', 'efficientnet-b4')
    .option('--steps <n>', 'timed steps per row after one warm-up step; the median is reported', '3')
    .option('--profile', 'time one more step per row under the GPU profiler and print time per op type')
    .option('--no-torch', 'skip the PyTorch comparison')
    .option('--python <path>', 'the Python that has torch', DEFAULT_PYTHON)
    .option('--torch-device <device>', 'where PyTorch runs: cpu, or cuda on an NVIDIA GPU (fp32)', 'cpu')
    .addHelpText(
      'after',
      [
        '',
        'The ratio is ours_ms / torch_ms: how many times longer a step takes here than with PyTorch on the CPU.',
        '',
        'Examples:',
        '  $ nephron bench model',
        '  $ nephron bench model --rows train-2x256 --steps 2 --profile',
        '  $ nephron bench model --encoder b0 --rows train-2x64,infer-2x64 --json',
      ].join('\n'),
    )
    .action(async (options: BenchModelOptions) => {
      context.setExitCode(await benchModelCommand(context.host, options));
    });
}
