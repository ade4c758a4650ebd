import { readCsvTable } from '@nephron/io';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { fileChunks } from '../host/files.js';
import { ExitCode, type Host } from '../host/host.js';
import { UsageError } from './options.js';

export interface MergeOptions {
  out: string;
  order?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerMerge(program: Command, context: CommandContext): void {
  program
    .command('merge')
    .description('join the shard submissions of `predict --shard i/n` into one submission')
    .argument('<shards...>', 'the shard CSVs (id,predicted)')
    .requiredOption('--out <file>', 'the merged submission to write')
    .option(
      '--order <csv>',
      'list rows in the order of this CSV (e.g. sample_submission.csv); default: sorted by id',
    )
    .option('--json', 'print { out, images, shards } as JSON')
    .option('--quiet', 'print nothing but errors')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron merge part-*.csv --out submission.csv',
        '  $ nephron merge part-0.csv part-1.csv --order data/sample_submission.csv --out submission.csv',
        '  $ nephron merge part-*.csv --out submission.csv --json | jq .images',
        '',
        'Fails when an id appears in two shards, or when --order names an id no shard has.',
      ].join('\n'),
    )
    .action(async (shards: string[], options: MergeOptions) =>
      context.setExitCode(await merge(context.host, shards, options)),
    );
}

export async function merge(host: Host, shards: readonly string[], options: MergeOptions): Promise<ExitCode> {
  const rows = new Map<string, { encoding: string; from: string }>();
  for (const shard of shards) {
    for await (const record of readCsvTable(fileChunks(host.files, shard), {
      source: shard,
      required: ['id', 'predicted'],
    })) {
      const id = record.values.id;
      const previous = rows.get(id);
      if (previous) throw new UsageError(`image ${id} is in both ${previous.from} and ${shard}`);
      rows.set(id, { encoding: record.values.predicted, from: shard });
    }
  }
  let order = [...rows.keys()].sort();
  if (options.order) {
    order = [];
    for await (const record of readCsvTable(fileChunks(host.files, options.order), {
      source: options.order,
      required: ['id'],
    })) {
      order.push(record.values.id);
    }
    const missing = order.filter((id) => !rows.has(id));
    if (missing.length)
      throw new UsageError(
        `${options.order} lists ${missing.length} id(s) no shard has: ${missing.slice(0, 5).join(', ')}`,
      );
  }
  const lines = ['id,predicted', ...order.map((id) => `${id},${rows.get(id)!.encoding}`)];
  await host.files.write(options.out, `${lines.join('\n')}\n`);
  if (options.json) {
    host.stdout.write(
      `${JSON.stringify({ out: options.out, images: order.length, shards: shards.length })}\n`,
    );
  } else if (!options.quiet) {
    host.stderr.write(`merged ${order.length} image(s) from ${shards.length} shard(s) into ${options.out}\n`);
  }
  return ExitCode.ok;
}
