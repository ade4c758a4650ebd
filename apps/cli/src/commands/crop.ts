import { encodePng, openTiff, readRegion } from '@nephron/io';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { CommandContext } from '../context.js';
import { ExitCode, type Host } from '../host/host.js';

export interface CropOptions {
  x: number;
  y: number;
  w: number;
  h: number;
  level?: number;
  scale?: number;
  out: string;
  json?: boolean;
}

/** A whole number of at least `least`, for option parsing. */
export function integerAtLeast(least: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\s*[-+]?\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < least) {
      throw new InvalidArgumentError(`expected a whole number of at least ${least}, got "${text}"`);
    }
    return value;
  };
}

function scaleFactor(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !(value > 0 && value <= 1)) {
    throw new InvalidArgumentError(`expected a number in (0, 1], such as 0.25, got "${text}"`);
  }
  return value;
}

export function registerCrop(program: Command, context: CommandContext): void {
  program
    .command('crop')
    .description(
      'cut a region out of a TIFF, at full resolution, a pyramid level or any scale, and save it as PNG',
    )
    .argument('<file>', 'the TIFF to read')
    .requiredOption('--x <pixels>', 'left edge of the region, in full-resolution pixels', integerAtLeast(0))
    .requiredOption('--y <pixels>', 'top edge of the region, in full-resolution pixels', integerAtLeast(0))
    .requiredOption('--w <pixels>', 'width of the region, in full-resolution pixels', integerAtLeast(1))
    .requiredOption('--h <pixels>', 'height of the region, in full-resolution pixels', integerAtLeast(1))
    .addOption(
      new Option('--level <n>', 'read this pyramid level at its own resolution (see `nephron inspect`)')
        .argParser(integerAtLeast(0))
        .conflicts('scale'),
    )
    .addOption(
      new Option(
        '--scale <s>',
        'output size = region size x s (0 < s <= 1), area-averaged from the best level',
      ).argParser(scaleFactor),
    )
    .requiredOption('--out <file.png>', 'the PNG to write')
    .option('--json', 'print what was written as one JSON object')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron crop slide.tiff --x 2048 --y 1024 --w 1024 --h 1024 --out crop.png',
        '  $ nephron crop slide.tiff --x 0 --y 0 --w 6400 --h 3600 --scale 0.125 --out thumbnail.png',
        '  $ nephron crop slide.tiff --x 0 --y 0 --w 6400 --h 3600 --level 2 --out level2.png',
        '',
        'The region is always given in full-resolution pixels; parts outside the image come out black.',
        'Exit code 0 when the PNG was written, 1 when the file cannot be read, 2 on bad options.',
      ].join('\n'),
    )
    .action(async (file: string, options: CropOptions) =>
      context.setExitCode(await crop(context.host, file, options)),
    );
}

export async function crop(host: Host, file: string, options: CropOptions): Promise<ExitCode> {
  const tiff = await openTiff(await host.files.open(file));
  try {
    const full = tiff.levels[0];
    if (options.x >= full.width || options.y >= full.height) {
      throw new Error(
        `${file}: the region starts at (${options.x}, ${options.y}), outside the ${full.width} x ${full.height} image`,
      );
    }
    const region = await readRegion(tiff, {
      x: options.x,
      y: options.y,
      width: options.w,
      height: options.h,
      ...(options.level === undefined ? {} : { level: options.level }),
      ...(options.scale === undefined ? {} : { scale: options.scale }),
    });
    await host.files.write(options.out, encodePng(region));
    const summary = {
      out: options.out,
      width: region.width,
      height: region.height,
      level: region.level,
      scale: region.scale,
    };
    host.stdout.write(
      options.json
        ? `${JSON.stringify(summary, null, 2)}\n`
        : `wrote ${options.out}: ${region.width} x ${region.height} pixels from level ${region.level} (scale ${Number(region.scale.toPrecision(6))})\n`,
    );
    return ExitCode.ok;
  } finally {
    await tiff.close();
  }
}
