import { readImageInformation, type SubmissionScore, scoreSubmission } from '@nephron/hubmap';
import type { ImageSizes } from '@nephron/io';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { fileChunks } from '../host/files.js';
import { ExitCode, type Host } from '../host/host.js';

export interface ScoreOptions {
  pred: string;
  truth: string;
  info?: string;
  json?: boolean;
}

export function registerScore(program: Command, context: CommandContext): void {
  program
    .command('score')
    .description(
      'score a submission with the competition metric: Dice per image (1 when both are empty), averaged',
    )
    .requiredOption('--pred <file>', 'the submission: id,predicted')
    .requiredOption('--truth <file>', 'the true masks: id,encoding (as train.csv) or id,predicted')
    .option('--info <file>', 'dataset-information CSV: also check that no run reaches past its image')
    .option('--json', 'print { mean, images: [{ id, dice, predictedPixels, truePixels, intersection }] }')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron score --pred submission.csv --truth solution.csv',
        '  $ nephron score --pred submission.csv --truth solution.csv --json | jq .mean',
        '',
        'The Dice comes from intersecting the runs of the encodings, so slides of any size score in',
        'moments without decoding a mask. Every image of the truth needs one row in the submission.',
        'Exit code 0 when the submission was scored, 1 when it cannot be (missing ids, a bad encoding).',
      ].join('\n'),
    )
    .action(async (options: ScoreOptions) => context.setExitCode(await score(context.host, options)));
}

export async function score(host: Host, options: ScoreOptions): Promise<ExitCode> {
  let sizes: ImageSizes | undefined;
  if (options.info !== undefined)
    sizes = await readImageInformation(fileChunks(host.files, options.info), options.info);
  const result = await scoreSubmission(
    fileChunks(host.files, options.pred),
    fileChunks(host.files, options.truth),
    {
      predictedName: options.pred,
      truthName: options.truth,
      ...(sizes === undefined ? {} : { sizes }),
    },
  );
  host.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatScore(result));
  return ExitCode.ok;
}

export function formatScore(result: SubmissionScore): string {
  const rows = result.images.map((image) => [
    image.id,
    image.dice.toFixed(4),
    image.predictedPixels.toLocaleString('en-US'),
    image.truePixels.toLocaleString('en-US'),
    image.intersection.toLocaleString('en-US'),
  ]);
  const header = ['image', 'dice', 'predicted', 'true', 'both'];
  const widths = header.map((name, c) => Math.max(name.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  const count = result.images.length;
  return `${[line(header), ...rows.map(line), '', `mean Dice ${result.mean.toFixed(4)} over ${count} image${count === 1 ? '' : 's'}`].join('\n')}\n`;
}
