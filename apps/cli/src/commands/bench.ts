import type { Command } from 'commander';
import { benchKernels, formatKernelRows, type KernelRow } from '../bench/kernel-bench.js';
import type { CommandContext } from '../context.js';
import { openEngine } from '../engine.js';
import { ExitCode } from '../host/host.js';

interface BenchKernelOptions {
  json?: boolean;
  tfjs?: boolean;
  minMs?: string;
}

export function registerBench(program: Command, context: CommandContext): void {
  const bench = program.command('bench').description('measure kernel and model throughput on this GPU');
  bench
    .command('kernels')
    .description('GFLOP/s of matmul and the convolutions of EfficientNet-B4/UNet, ours next to tfjs-webgpu')
    .option('--json', 'print the rows as JSON: [{name, ours_gflops, tfjs_gflops, ratio}, ...]')
    .option('--no-tfjs', 'skip the tfjs-webgpu comparison')
    .option('--min-ms <ms>', 'time each row for at least this long', '1000')
    .addHelpText(
      'after',
      ['', 'Examples:', '  $ nephron bench kernels', '  $ nephron bench kernels --json --min-ms 3000'].join(
        '\n',
      ),
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
}
