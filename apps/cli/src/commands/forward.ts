import { IMAGENET_MEAN, IMAGENET_STD, loadSegmentationModel } from '@nephron/hubmap';
import { encodePng, openTiff, readRegion } from '@nephron/io';
import { keep, noGrad, tensor, tidy } from '@nephron/tensor';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { openEngine } from '../engine.js';
import { readFileBytes } from '../host/files.js';
import { ExitCode, type Host } from '../host/host.js';
import { nonNegativeInt, positiveInt, positiveNumber } from './options.js';

export interface ForwardOptions {
  model: string;
  image: string;
  x: string;
  y: string;
  downscale?: string;
  tile?: string;
  encoder?: string;
  out?: string;
  json?: boolean;
}

export function registerForward(program: Command, context: CommandContext): void {
  program
    .command('forward')
    .description('run a model on one tile of a slide: glomerulus probabilities as a PNG and numbers')
    .requiredOption('--model <file>', 'model.safetensors')
    .requiredOption('--image <file>', 'a slide (TIFF)')
    .option('--x <px>', 'left edge of the tile, full-resolution pixels', '0')
    .option('--y <px>', 'top edge of the tile, full-resolution pixels', '0')
    .option('--downscale <s>', "override the model's training scale")
    .option('--tile <px>', "override the model's tile size")
    .option('--encoder <name>', 'encoder, for state dicts that do not say')
    .option('--out <png>', 'write the probability map (0..255) as a grey PNG')
    .option('--json', 'print { mean, max, positiveFraction, probabilities? } as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron forward --model run/model.safetensors --image slide.tiff --x 4096 --y 2048 --out p.png',
        '  $ nephron forward --model run/model.safetensors --image slide.tiff --json | jq .positiveFraction',
      ].join('\n'),
    )
    .action(async (options: ForwardOptions) => context.setExitCode(await forward(context.host, options)));
}

export async function forward(host: Host, options: ForwardOptions): Promise<ExitCode> {
  await openEngine(host);
  const { model, info } = loadSegmentationModel(await readFileBytes(host.files, options.model), options.model, {
    ...(options.encoder ? { encoder: options.encoder } : {}),
    ...(options.downscale ? { downscale: positiveNumber('--downscale', options.downscale) } : {}),
    ...(options.tile ? { tile: positiveInt('--tile', options.tile) } : {}),
  });
  const s = options.downscale ? positiveNumber('--downscale', options.downscale) : info.downscale;
  const tile = options.tile ? positiveInt('--tile', options.tile) : info.tile;
  const file = await openTiff(await host.files.open(options.image));
  let rgb: Uint8Array;
  try {
    const region = await readRegion(file, {
      x: nonNegativeInt('--x', options.x),
      y: nonNegativeInt('--y', options.y),
      width: Math.round(tile * s),
      height: Math.round(tile * s),
      scale: 1 / s,
      fill: 255,
    });
    rgb = region.data;
  } finally {
    await file.close();
  }
  const input = new Float32Array(3 * tile * tile);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < tile * tile; i++) input[c * tile * tile + i] = (rgb[i * 3 + c] / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
  }
  const probs = noGrad(() =>
    tidy(() => {
      const logits = model.forward(tensor(input, [1, 3, tile, tile]));
      return keep(logits.softmax(1).narrow(1, 1, 1).contiguous());
    }),
  );
  const p = (await probs.toArray()) as Float32Array;
  probs.dispose();
  model.dispose();
  let sum = 0;
  let max = 0;
  let positive = 0;
  for (const v of p) {
    sum += v;
    if (v > max) max = v;
    if (v >= info.threshold) positive++;
  }
  const result = { tile, downscale: s, mean: sum / p.length, max, positiveFraction: positive / p.length };
  if (options.out) {
    const grey = Uint8Array.from(p, (v) => Math.round(v * 255));
    await host.files.write(options.out, encodePng({ data: grey, width: tile, height: tile, channels: 1 }));
  }
  host.stdout.write(
    options.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : `tile ${tile}² at 1/${s}: mean probability ${result.mean.toFixed(4)}, max ${max.toFixed(4)}, ${(result.positiveFraction * 100).toFixed(2)}% above ${info.threshold}\n`,
  );
  return ExitCode.ok;
}
