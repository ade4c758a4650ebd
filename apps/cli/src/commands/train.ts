import {
  createSegmentationModel,
  DEFAULT_TRAIN_CONFIG,
  ENCODERS,
  type EpochMetrics,
  loadDataset,
  segmentationLoss,
  type TrainConfig,
  Trainer,
  type TrainPrecision,
} from '@nephron/hubmap';
import { loadSafetensors } from '@nephron/nn';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { openEngine } from '../engine.js';
import { hostDataFolder, readFileBytes } from '../host/files.js';
import { ExitCode, type Host } from '../host/host.js';
import type { Progress } from '../host/progress.js';
import { hostRunFolder } from '../host/run-folder.js';
import { nonNegativeInt, positiveInt, positiveNumber, UsageError, withConfigFile } from './options.js';

export interface TrainOptions {
  data: string;
  out: string;
  encoder: string;
  epochs: string;
  batchSize: string;
  lr: string;
  weightDecay: string;
  downscale: string;
  tile: string;
  randomTiles: string;
  stepsPerEpoch?: string;
  validation?: string;
  folds: string;
  fold: string;
  seed: string;
  checkpointEvery: string;
  precision?: string;
  init?: string;
  resume?: boolean;
  json?: boolean;
  quiet?: boolean;
  config?: string;
}

const d = DEFAULT_TRAIN_CONFIG;

export function registerTrain(program: Command, context: CommandContext): void {
  const command = program
    .command('train')
    .description(
      'train a UNet-EfficientNet on a Kaggle-layout dataset (deepflash2 sampling, CE + Dice, AdamW, warm restarts)',
    )
    .requiredOption('--data <dir>', 'dataset folder: train.csv, train/{id}.tiff, optional annotations')
    .requiredOption(
      '--out <dir>',
      'run folder: model.safetensors, last.safetensors, report.html, metrics.jsonl/csv, steps.jsonl, config.json, validation/',
    )
    .option('--encoder <name>', `encoder: ${ENCODERS.join(', ')}`, d.encoder)
    .option('--epochs <n>', 'epochs', String(d.epochs))
    .option('--batch-size <n>', 'tiles per step', String(d.batchSize))
    .option('--lr <x>', 'AdamW learning rate (the cosine schedule starts here)', String(d.lr))
    .option('--weight-decay <x>', 'AdamW decoupled weight decay', String(d.weightDecay))
    .option('--downscale <s>', 'full-resolution pixels per model pixel', String(d.downscale))
    .option('--tile <px>', 'model input side (a multiple of 32)', String(d.tile))
    .option(
      '--random-tiles <n>',
      'random tiles per image per epoch, besides one per glomerulus',
      String(d.randomTilesPerImage),
    )
    .option('--steps-per-epoch <n>', 'cap the optimizer steps of an epoch')
    .option(
      '--validation <ids>',
      'comma-separated image ids to hold out for validation Dice (default: a k-fold split)',
    )
    .option('--folds <k>', 'folds of the split by image', String(d.folds))
    .option('--fold <i>', 'which fold to hold out', String(d.fold))
    .option('--seed <n>', 'seed of sampling, augmentation and initialisation', String(d.seed))
    .option(
      '--checkpoint-every <steps>',
      'also write last.safetensors every this many steps',
      String(d.checkpointEvery),
    )
    .option(
      '--precision <mode>',
      'f32, or mixed: float16 activations and convolutions, float32 master weights, dynamic loss scaling (needs shader-f16)',
      d.precision,
    )
    .option('--init <file>', 'start from these weights (a safetensors state dict with smp UNet keys)')
    .option('--resume', 'continue the run in --out from its last.safetensors')
    .option('--config <file>', 'JSON file of option values (flags given on the command line win)')
    .option('--json', 'print one JSON line per epoch')
    .option('--quiet', 'print nothing but errors');
  command
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron train --data ../shared/data/hubmap-vanderbilt --out runs/b4 --epochs 20',
        '  $ nephron train --data data --out runs/small --encoder efficientnet-b0 --tile 256 --batch-size 4',
        '  $ nephron train --data data --out runs/b4 --resume          # after an interruption',
        '',
        'Ctrl-C stops after writing last.safetensors; --resume then continues exactly where it stopped.',
        'report.html (loss, Dice and learning-rate curves, validation slides as predicted) is rewritten every epoch.',
      ].join('\n'),
    )
    .action(async (raw: TrainOptions) => {
      const options = await withConfigFile(command, raw, context.host.files);
      context.setExitCode(await train(context.host, options));
    });
}

export function trainConfigFrom(options: TrainOptions): TrainConfig {
  if (!ENCODERS.includes(options.encoder)) {
    throw new UsageError(`--encoder must be one of ${ENCODERS.join(', ')}, got "${options.encoder}"`);
  }
  const tile = positiveInt('--tile', options.tile);
  if (tile % 32 !== 0) throw new UsageError(`--tile must be a multiple of 32, got ${tile}`);
  const folds = positiveInt('--folds', options.folds);
  const fold = nonNegativeInt('--fold', options.fold);
  if (fold >= folds) throw new UsageError(`--fold must be below --folds (${folds}), got ${fold}`);
  const downscale = positiveNumber('--downscale', options.downscale);
  if (downscale < 1) throw new UsageError(`--downscale must be at least 1, got ${downscale}`);
  return {
    ...DEFAULT_TRAIN_CONFIG,
    encoder: options.encoder,
    epochs: positiveInt('--epochs', options.epochs),
    batchSize: positiveInt('--batch-size', options.batchSize),
    lr: positiveNumber('--lr', options.lr),
    weightDecay: Number(options.weightDecay),
    downscale,
    tile,
    randomTilesPerImage: nonNegativeInt('--random-tiles', options.randomTiles),
    stepsPerEpoch:
      options.stepsPerEpoch === undefined ? null : positiveInt('--steps-per-epoch', options.stepsPerEpoch),
    validation: options.validation
      ? options.validation
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    folds,
    fold,
    seed: nonNegativeInt('--seed', options.seed),
    checkpointEvery: nonNegativeInt('--checkpoint-every', options.checkpointEvery),
    precision: trainPrecision(options.precision ?? d.precision),
  };
}

/** `--precision` of train and demo. */
export function trainPrecision(value: string): TrainPrecision {
  if (value !== 'f32' && value !== 'mixed')
    throw new UsageError(`--precision must be f32 or mixed, got "${value}"`);
  return value;
}

export async function train(host: Host, options: TrainOptions): Promise<ExitCode> {
  const config = trainConfigFrom(options);
  const say = (text: string) => {
    if (!options.quiet && !options.json) host.stderr.write(`${text}\n`);
  };
  await openEngine(host);
  const dataset = await loadDataset(hostDataFolder(host.files, options.data));
  for (const warning of dataset.warnings) say(`warning: ${warning}`);
  const { manualSeed } = await import('@nephron/tensor');
  const { manualSeedInit } = await import('@nephron/nn');
  manualSeedInit(config.seed);
  manualSeed(config.seed);
  const model = createSegmentationModel(config.encoder, config.classes);
  if (options.init) {
    const { tensors } = loadSafetensors(await readFileBytes(host.files, options.init), options.init);
    try {
      model.loadStateDict(tensors, { strict: true });
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }
  const run = hostRunFolder(host.files, options.out);
  let stop = false;
  // Said even under --quiet or --json: the command ends with exit 1, and the user must know why and what next.
  const release = host.onInterrupt?.(() => {
    stop = true;
    host.stderr.write('interrupted: finishing the step and writing last.safetensors\n');
  });
  const showProgress = !options.quiet && !options.json;
  let bar: Progress | null = null;
  try {
    const trainer = new Trainer(dataset, model, segmentationLoss, config, run, {
      onLog: say,
      shouldStop: () => stop,
      onStep(info) {
        if (!showProgress) return;
        if (info.step === 0 || !bar) {
          bar?.stop();
          bar = host.progress(`epoch ${info.epoch + 1}/${config.epochs}`, info.steps, 'steps');
        }
        bar.update(info.step + 1, `loss ${info.loss.toFixed(4)} lr ${info.lr.toExponential(2)}`);
      },
      onEpoch(metrics: EpochMetrics) {
        bar?.stop();
        bar = null;
        if (options.json) host.stdout.write(`${JSON.stringify(metrics)}\n`);
        else say(formatEpoch(metrics));
      },
    });
    if (options.resume && !(await trainer.resume())) {
      throw new UsageError(`--resume: ${options.out}/last.safetensors does not exist`);
    }
    const result = await trainer.train();
    if (result.stopped) {
      host.stderr.write(
        `stopped at epoch ${result.progress.epoch + 1}, step ${result.progress.step}; ${options.out}/last.safetensors holds the run. ` +
          'Run the same command with --resume to continue.\n',
      );
      return ExitCode.failure;
    }
    say(
      `done: best validation Dice ${result.progress.bestDice?.toFixed(4) ?? '— (no validation images)'}; model in ${options.out}/model.safetensors, ` +
        `report in ${options.out}/report.html`,
    );
    return ExitCode.ok;
  } finally {
    (bar as Progress | null)?.stop();
    release?.();
  }
}

function formatEpoch(m: EpochMetrics): string {
  const dice = m.validationDice === null ? '—' : m.validationDice.toFixed(4);
  return `epoch ${m.epoch + 1}: loss ${m.trainLoss?.toFixed(4) ?? '—'}, validation Dice ${dice}, lr ${m.lr.toExponential(2)}, ${m.seconds.toFixed(1)} s`;
}
