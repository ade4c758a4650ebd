import { type ImageInformation, readImageInformation } from '@nephron/hubmap';
import {
  type BitMask,
  type CsvRecord,
  checkRleTable,
  decodeMaskPng,
  encodeMaskPng,
  formatRleCheckReport,
  imageSizesFromInfo,
  RleError,
  readCsvTable,
  rleDecodeBits,
  rleEncode,
} from '@nephron/io';
import { type Command, Option } from 'commander';
import type { CommandContext } from '../context.js';
import { fileChunks, readFileBytes } from '../host/files.js';
import { ExitCode, type Host } from '../host/host.js';
import { integerAtLeast } from './crop.js';

export interface RleDecodeOptions {
  csv: string;
  id: string;
  width?: number;
  height?: number;
  info?: string;
  out: string;
  depth: '1' | '8';
  json?: boolean;
}

export interface RleEncodeOptions {
  mask: string;
  json?: boolean;
}

export interface RleCheckOptions {
  csv: string;
  info: string;
  json?: boolean;
}

const FOOTER = [
  '',
  'Kaggle run-length encoding: "start length" pairs, starts 1-indexed, pixels numbered top to bottom,',
  'then left to right (column-major). CSV files hold it in an "encoding" (train.csv) or "predicted"',
  '(submission) column.',
];

export function registerRle(program: Command, context: CommandContext): void {
  const rle = program
    .command('rle')
    .description('decode, encode and check Kaggle run-length encoded masks')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron rle decode --csv train.csv --id aaa6a05cc --width 13013 --height 18484 --out mask.png',
        '  $ nephron rle encode --mask mask.png',
        '  $ nephron rle check --csv train.csv --info HuBMAP-20-dataset_information.csv',
        ...FOOTER,
      ].join('\n'),
    );

  const decode = rle
    .command('decode')
    .description("write one image's mask from a CSV of encodings as a PNG (white = set)")
    .requiredOption('--csv <file>', 'CSV with id and encoding (or predicted) columns')
    .requiredOption('--id <id>', 'the image whose mask to decode')
    .option('--width <pixels>', 'image width', integerAtLeast(1))
    .option('--height <pixels>', 'image height', integerAtLeast(1))
    .option('--info <file>', 'take width and height from a dataset-information CSV instead')
    .requiredOption('--out <file.png>', 'the PNG to write')
    .addOption(
      new Option(
        '--depth <bits>',
        'bits per pixel of the PNG: 8 (0 and 255, read everywhere) or 1 (an eighth of the memory)',
      )
        .choices(['1', '8'])
        .default('8'),
    )
    .option('--json', 'print what was written as one JSON object')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron rle decode --csv train.csv --id 588347964 --width 6400 --height 3600 --out mask.png',
        '  $ nephron rle decode --csv train.csv --id 2f6ecfcdf --width 25794 --height 31278 --depth 1 --out mask.png',
        '  $ nephron rle decode --csv train.csv --id 588347964 --info dataset_information.csv --out mask.png',
        ...FOOTER,
      ].join('\n'),
    )
    .action(async (options: RleDecodeOptions) => {
      const sized = options.width !== undefined && options.height !== undefined;
      if (!sized && options.info === undefined) decode.error('error: give --width and --height, or --info');
      if (sized && options.info !== undefined)
        decode.error('error: give --width and --height, or --info, not both');
      if (!sized && (options.width !== undefined || options.height !== undefined)) {
        decode.error('error: --width and --height go together');
      }
      context.setExitCode(await rleDecodeCommand(context.host, options));
    });

  rle
    .command('encode')
    .description('print the encoding of a mask PNG (any non-black pixel counts as set)')
    .requiredOption('--mask <file.png>', 'the mask to encode')
    .option('--json', 'print width, height, set pixels and the encoding as one JSON object')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron rle encode --mask mask.png > mask.rle',
        '  $ nephron rle encode --mask mask.png --json',
        ...FOOTER,
      ].join('\n'),
    )
    .action(async (options: RleEncodeOptions) =>
      context.setExitCode(await rleEncodeCommand(context.host, options)),
    );

  rle
    .command('check')
    .description('check every encoding of a CSV against the image sizes of a dataset-information CSV')
    .requiredOption('--csv <file>', 'CSV with id and encoding (or predicted) columns')
    .requiredOption('--info <file>', 'dataset-information CSV (image_file, width_pixels, height_pixels)')
    .option(
      '--json',
      'print { ok, rows: [{ id, line, ok, runs, pixels, error }], missing } as one JSON object',
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron rle check --csv train.csv --info dataset_information.csv',
        '  $ nephron rle check --csv submission.csv --info dataset_information.csv --json',
        '',
        'Finds odd token counts, non-numbers, zero lengths, runs past the end of the image, overlapping or',
        'unsorted runs, repeated ids and ids the information CSV does not know.',
        'Exit code 0 when every encoding is valid, 1 otherwise.',
      ].join('\n'),
    )
    .action(async (options: RleCheckOptions) =>
      context.setExitCode(await rleCheckCommand(context.host, options)),
    );
}

/** The column of a CSV that holds encodings. */
function encodingColumn(record: CsvRecord, file: string): string {
  const column = ['encoding', 'predicted'].find((name) => name in record.values);
  if (column === undefined) {
    throw new Error(
      `${file}: no "encoding" or "predicted" column (columns: ${Object.keys(record.values).join(',')})`,
    );
  }
  return column;
}

async function readInformation(host: Host, file: string): Promise<Map<string, ImageInformation>> {
  return readImageInformation(fileChunks(host.files, file), file);
}

export async function rleDecodeCommand(host: Host, options: RleDecodeOptions): Promise<ExitCode> {
  let { width, height } = options;
  if (options.info !== undefined) {
    const image = (await readInformation(host, options.info)).get(options.id);
    if (!image) throw new Error(`${options.info}: no image "${options.id}"`);
    ({ width, height } = image);
  }
  let found: { encoding: string; line: number } | undefined;
  for await (const record of readCsvTable(fileChunks(host.files, options.csv), {
    source: options.csv,
    required: ['id'],
  })) {
    if (record.values.id === options.id) {
      found = { encoding: record.values[encodingColumn(record, options.csv)], line: record.line };
      break;
    }
  }
  if (found === undefined) throw new Error(`${options.csv}: no row with id "${options.id}"`);
  let mask: BitMask;
  try {
    mask = rleDecodeBits(found.encoding, width as number, height as number, options.id);
  } catch (error) {
    // The parser names the image and the token; add the file and line.
    if (error instanceof RleError) error.message = `${options.csv}: line ${found.line}: ${error.message}`;
    throw error;
  }
  await host.files.write(options.out, encodeMaskPng(mask, { depth: options.depth === '1' ? 1 : 8 }));
  const pixels = mask.countOnes();
  const summary = { out: options.out, id: options.id, width: mask.width, height: mask.height, pixels };
  const percent = ((100 * pixels) / Math.max(1, mask.width * mask.height)).toFixed(2);
  host.stdout.write(
    options.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `wrote ${options.out}: ${mask.width} x ${mask.height}, ${pixels.toLocaleString('en-US')} pixels set (${percent}%)\n`,
  );
  return ExitCode.ok;
}

export async function rleEncodeCommand(host: Host, options: RleEncodeOptions): Promise<ExitCode> {
  const mask = decodeMaskPng(await readFileBytes(host.files, options.mask), options.mask);
  const encoding = rleEncode(mask);
  if (options.json) {
    const summary = { width: mask.width, height: mask.height, pixels: mask.countOnes(), encoding };
    host.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    host.stdout.write(`${encoding}\n`);
  }
  return ExitCode.ok;
}

export async function rleCheckCommand(host: Host, options: RleCheckOptions): Promise<ExitCode> {
  const information: CsvRecord[] = [];
  for await (const record of readCsvTable(fileChunks(host.files, options.info), {
    source: options.info,
    required: ['image_file', 'width_pixels', 'height_pixels'],
  })) {
    information.push(record);
  }
  const sizes = imageSizesFromInfo(information, options.info);
  const rows = readCsvTable(fileChunks(host.files, options.csv), { source: options.csv, required: ['id'] });
  const report = await checkRleTable(rows, sizes);
  host.stdout.write(
    options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatRleCheckReport(report)}\n`,
  );
  if (!report.ok) {
    const bad = report.rows.filter((row) => !row.ok).length;
    host.stderr.write(`nephron: ${options.csv}: ${bad} invalid encoding${bad === 1 ? '' : 's'}\n`);
  }
  return report.ok ? ExitCode.ok : ExitCode.failure;
}
