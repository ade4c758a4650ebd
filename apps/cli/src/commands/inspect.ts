import { inspectTiff, type TiffInspection } from '@nephron/io';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { ExitCode, type Host } from '../host/host.js';

export interface InspectOptions {
  json?: boolean;
}

export function registerInspect(program: Command, context: CommandContext): void {
  program
    .command('inspect')
    .description(
      'describe a TIFF without decoding it: pages, sizes, tiling, compression, sample format, pyramid levels',
    )
    .argument('<file>', 'the TIFF (or SVS, OME-TIFF, BigTIFF) to describe')
    .option('--json', 'print one JSON object instead of text')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron inspect train/aaa6a05cc.tiff',
        '  $ nephron inspect slide.svs --json | jq ".levels[] | [.width, .height]"',
        '',
        'Only the file header and image directories are read, so this is quick on slides of any size.',
        'Exit code 0 when the file is a readable TIFF, 1 otherwise.',
      ].join('\n'),
    )
    .action(async (file: string, options: InspectOptions) =>
      context.setExitCode(await inspect(context.host, file, options)),
    );
}

export async function inspect(host: Host, file: string, options: InspectOptions): Promise<ExitCode> {
  const inspection = await inspectTiff(await host.files.open(file));
  host.stdout.write(options.json ? `${JSON.stringify(inspection, null, 2)}\n` : formatInspection(inspection));
  return ExitCode.ok;
}

export function formatInspection(info: TiffInspection): string {
  const lines = [
    `file      ${info.file}`,
    `bytes     ${info.bytes.toLocaleString('en-US')}`,
    `format    ${info.bigTiff ? 'BigTIFF' : 'TIFF'}, ${info.byteOrder}`,
    'levels',
    ...info.levels.map(
      (level) =>
        `  ${String(level.level).padEnd(3)}${`${level.width} x ${level.height}`.padEnd(15)}page ${level.page.padEnd(5)}${level.downsample === 1 ? 'full resolution' : `downsample ${level.downsample}`}`,
    ),
    'pages',
  ];
  const rows = info.pages.map((page) => [
    page.id,
    `${page.width} x ${page.height}`,
    page.layout === 'tiled'
      ? `tiles ${page.tileWidth}x${page.tileHeight}`
      : `strips of ${page.rowsPerStrip} rows`,
    page.compression,
    `${page.samplesPerPixel} x ${page.sampleFormat}${page.bitsPerSample[0]}`,
    page.photometric,
    page.planar,
    page.reducedResolution ? 'reduced' : '',
  ]);
  const header = ['page', 'size', 'layout', 'compression', 'samples', 'colour', 'planar', ''];
  const widths = header.map((name, c) => Math.max(name.length, ...rows.map((row) => row[c].length)) + 2);
  for (const row of [header, ...rows])
    lines.push(
      `  ${row
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('')
        .trimEnd()}`,
    );
  return `${lines.join('\n')}\n`;
}
