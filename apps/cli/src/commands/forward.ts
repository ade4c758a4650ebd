import {
  atPrecision,
  checkInferencePrecision,
  IMAGENET_MEAN,
  IMAGENET_STD,
  loadSegmentationModel,
  type ModelInfo,
} from '@nephron/hubmap';
import { encodePng, openTiff, readRegion } from '@nephron/io';
import { fuseForInference, loadSafetensors, saveSafetensors } from '@nephron/nn';
import { keep, noGrad, type Tensor, tensor, tidy } from '@nephron/tensor';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { openEngine } from '../engine.js';
import { readFileBytes } from '../host/files.js';
import { ExitCode, type Host } from '../host/host.js';
import { nonNegativeInt, positiveInt, positiveNumber, UsageError } from './options.js';

export interface ForwardOptions {
  weights: string;
  input?: string;
  image?: string;
  x: string;
  y: string;
  arch?: string;
  downscale?: string;
  tile?: string;
  train?: boolean;
  precision?: string;
  out?: string;
  json?: boolean;
}

export function registerForward(program: Command, context: CommandContext): void {
  program
    .command('forward')
    .description('run a UNet on an input tensor (to check a converted checkpoint) or on one tile of a slide')
    .option('--weights <file>', 'UNet weights (safetensors with smp keys, e.g. model.safetensors from train)')
    .option('--model <file>', 'the same as --weights')
    .option('--input <file>', 'safetensors holding `input`: N×3×H×W float32, H and W multiples of 32')
    .option('--image <file>', 'or: a slide (TIFF); one model-sized tile at --x, --y is run')
    .option('--x <px>', 'with --image: left edge of the tile, full-resolution pixels', '0')
    .option('--y <px>', 'with --image: top edge of the tile, full-resolution pixels', '0')
    .option('--arch <name>', 'encoder, when the file does not say (default: read from the keys)')
    .option('--downscale <s>', "with --image: override the model's training scale")
    .option('--tile <px>', "with --image: override the model's tile size")
    .option('--train', 'run in training mode (batch statistics), as model.train() in PyTorch')
    .option(
      '--precision <p>',
      'f32, or f16: half-precision weights and activations (needs shader-f16)',
      'f32',
    )
    .option(
      '--out <file>',
      'with --input: safetensors with `logits`; with --image: the probability map as a PNG',
    )
    .option('--json', 'print statistics of the output as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron forward --weights smp-b4.safetensors --input x.safetensors --out y.safetensors',
        '  $ nephron forward --weights run/model.safetensors --image slide.tiff --x 4096 --y 2048 --out p.png',
        '',
        'With --input, compare `logits` with PyTorch: smp.Unet("efficientnet-b4", classes=2)(input).',
      ].join('\n'),
    )
    .hook('preAction', (cmd) => {
      const o = cmd.opts();
      if (o.model && !o.weights) cmd.setOptionValue('weights', o.model);
    })
    .action(async (options: ForwardOptions) => context.setExitCode(await forward(context.host, options)));
}

function stats(values: Float32Array, threshold?: number) {
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let positive = 0;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (threshold !== undefined && v >= threshold) positive++;
  }
  return {
    mean: sum / values.length,
    min,
    max,
    ...(threshold === undefined ? {} : { positiveFraction: positive / values.length }),
  };
}

export async function forward(host: Host, options: ForwardOptions): Promise<ExitCode> {
  if (!options.weights) throw new UsageError('--weights is required');
  if (!!options.input === !!options.image)
    throw new UsageError('give exactly one of --input (a tensor file) or --image (a slide)');
  const precision = options.precision ?? 'f32';
  if (precision !== 'f32' && precision !== 'f16')
    throw new UsageError(`--precision must be f32 or f16, got "${precision}"`);
  await openEngine(host);
  checkInferencePrecision(precision);
  const fallback: Partial<ModelInfo> = {
    ...(options.arch ? { encoder: options.arch } : {}),
    ...(options.downscale
      ? { downscale: positiveNumber('--downscale', options.downscale) }
      : { downscale: 1 }),
    ...(options.tile ? { tile: positiveInt('--tile', options.tile) } : { tile: 256 }),
  };
  const { model, info } = loadSegmentationModel(
    await readFileBytes(host.files, options.weights),
    options.weights,
    fallback,
  );
  if (options.train) model.train();
  // Eval mode runs with each batch norm folded into its conv: the same logits within float32 rounding.
  const fused = options.train ? null : fuseForInference(model);
  // Float32 logits either way; f16 runs the network in half precision with each weight cast once.
  const run = atPrecision([fused ? fused.forward : (x: Tensor) => model.forward(x)], precision);
  try {
    return options.input
      ? await forwardTensor(host, options, run.models[0])
      : await forwardTile(host, options, run.models[0], info);
  } finally {
    run.dispose();
    fused?.dispose();
    model.dispose();
  }
}

async function forwardTensor(host: Host, options: ForwardOptions, model: (x: Tensor) => Tensor) {
  const path = options.input!;
  const { tensors } = loadSafetensors(await readFileBytes(host.files, path), path);
  const input = tensors.get('input');
  try {
    if (!input)
      throw new UsageError(
        `${path}: holds no tensor named "input" (it has ${[...tensors.keys()].join(', ') || 'none'})`,
      );
    const [n, c, h, w] = input.shape;
    if (input.ndim !== 4 || c !== 3 || h % 32 !== 0 || w % 32 !== 0 || input.dtype !== 'float32') {
      throw new UsageError(
        `${path}: "input" must be N×3×H×W float32 with H and W multiples of 32, got [${input.shape}] ${input.dtype}`,
      );
    }
    const logits = noGrad(() => tidy(() => keep(model(input).contiguous())));
    try {
      if (options.out) await host.files.write(options.out, await saveSafetensors({ logits }));
      const s = stats((await logits.toArray()) as Float32Array);
      const summary = { shape: logits.shape, ...s, n };
      host.stdout.write(
        options.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : `logits [${logits.shape}]: mean ${s.mean.toFixed(6)}, min ${s.min.toFixed(6)}, max ${s.max.toFixed(6)}\n`,
      );
    } finally {
      logits.dispose();
    }
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  return ExitCode.ok;
}

async function forwardTile(
  host: Host,
  options: ForwardOptions,
  model: (x: Tensor) => Tensor,
  info: ModelInfo,
) {
  const s = info.downscale;
  const tile = info.tile;
  const file = await openTiff(await host.files.open(options.image!));
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
    for (let i = 0; i < tile * tile; i++)
      input[c * tile * tile + i] = (rgb[i * 3 + c] / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
  }
  const probs: Tensor = noGrad(() =>
    tidy(() =>
      keep(
        model(tensor(input, [1, 3, tile, tile]))
          .softmax(1)
          .narrow(1, 1, 1)
          .contiguous(),
      ),
    ),
  );
  const p = (await probs.toArray()) as Float32Array;
  probs.dispose();
  const result = { tile, downscale: s, ...stats(p, info.threshold) };
  if (options.out) {
    const grey = Uint8Array.from(p, (v) => Math.round(v * 255));
    await host.files.write(options.out, encodePng({ data: grey, width: tile, height: tile, channels: 1 }));
  }
  host.stdout.write(
    options.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : `tile ${tile}² at 1/${s}: mean probability ${result.mean.toFixed(4)}, max ${result.max.toFixed(4)}, ${((result.positiveFraction ?? 0) * 100).toFixed(2)}% above ${info.threshold}\n`,
  );
  return ExitCode.ok;
}
