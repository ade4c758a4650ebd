import { DEMO_TRAIN_CONFIG, type DemoFolder, runDemo, type TrainConfig } from '@nephron/hubmap';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { openEngine } from '../engine.js';
import { type HostFiles, hostDataFolder } from '../host/files.js';
import { ExitCode, type Host } from '../host/host.js';
import type { Progress } from '../host/progress.js';
import { hostRunFolder } from '../host/run-folder.js';
import { positiveInt, UsageError, withConfigFile } from './options.js';
import { trainPrecision } from './train.js';

export interface DemoOptions {
  out: string;
  epochs?: string;
  stepsPerEpoch?: string;
  batchSize?: string;
  tile?: string;
  slideSize?: string;
  seed: string;
  precision?: string;
  config?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerDemo(program: Command, context: CommandContext): void {
  const command = program
    .command('demo')
    .description('the whole job on built-in synthetic slides: generate data, train, predict, score, report')
    .option(
      '--out <dir>',
      'folder for data/, run/, predictions/, submission.csv, score.json, report.html',
      'demo-out',
    )
    .option('--epochs <n>', `training epochs (default ${DEMO_TRAIN_CONFIG.epochs})`)
    .option('--steps-per-epoch <n>', `optimizer steps per epoch (default ${DEMO_TRAIN_CONFIG.stepsPerEpoch})`)
    .option('--batch-size <n>', `tiles per step (default ${DEMO_TRAIN_CONFIG.batchSize})`)
    .option('--tile <px>', `model input side, a multiple of 32 (default ${DEMO_TRAIN_CONFIG.tile})`)
    .option('--slide-size <WxH>', 'size of the generated slides in pixels', '768x576')
    .option('--seed <n>', 'seed of the data and the training', '1')
    .option(
      '--precision <mode>',
      'training precision: f32, or mixed (float16 passes, float32 master weights; needs shader-f16)',
    )
    .option('--config <file>', 'JSON file of option values (flags given on the command line win)')
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'print nothing but errors');
  command
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron demo                         # a few minutes on a CPU-only machine',
        '  $ nephron demo --out /tmp/demo --epochs 2 --steps-per-epoch 4',
        '  $ nephron demo --slide-size 256x192 --tile 64 --epochs 1 --steps-per-epoch 2 --json',
        '',
        'Open <out>/report.html afterwards: loss and Dice curves, the learning-rate schedule and the',
        'predicted glomeruli outlined on the test slides. In the browser app the same command writes',
        'into the page’s private file system; the outputs are listed with download links.',
        'An <out>/data/ folder from an earlier run is used again, so change --out with --slide-size.',
      ].join('\n'),
    )
    .action(async (raw: DemoOptions) => {
      const options = await withConfigFile(command, raw, context.host.files);
      context.setExitCode(await demo(context.host, options));
    });
}

/** The demo's folder on the host's files: the disk in Node, the private file system in a page. */
export function hostDemoFolder(files: HostFiles, dir: string): DemoFolder {
  return { ...hostDataFolder(files, dir), ...hostRunFolder(files, dir), name: dir };
}

function slideSize(value: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(value);
  const width = Number(m?.[1]);
  const height = Number(m?.[2]);
  if (!m || width < 64 || height < 64)
    throw new UsageError(`--slide-size must look like 768x576, each side at least 64, got "${value}"`);
  return { width, height };
}

/** The demo's training settings with the overrides the user gave. */
function trainOverrides(options: DemoOptions): Partial<TrainConfig> {
  const train: Partial<TrainConfig> = {};
  if (options.epochs) {
    train.epochs = positiveInt('--epochs', options.epochs);
    // One cosine cycle over the whole run, as the demo's own settings have.
    train.t0 = train.epochs;
  }
  if (options.precision) train.precision = trainPrecision(options.precision);
  if (options.stepsPerEpoch) train.stepsPerEpoch = positiveInt('--steps-per-epoch', options.stepsPerEpoch);
  if (options.batchSize) train.batchSize = positiveInt('--batch-size', options.batchSize);
  if (options.tile) {
    train.tile = positiveInt('--tile', options.tile);
    if (train.tile % 32 !== 0) throw new UsageError(`--tile must be a multiple of 32, got ${train.tile}`);
  }
  return train;
}

export async function demo(host: Host, options: DemoOptions): Promise<ExitCode> {
  const say = (text: string) => {
    if (!options.quiet && !options.json) host.stderr.write(`${text}\n`);
  };
  const train = trainOverrides(options);
  const size = slideSize(options.slideSize ?? '768x576');
  const seed = positiveInt('--seed', options.seed);
  const engine = await openEngine(host);
  say(
    `GPU: ${engine.gpu.info.description || engine.gpu.info.vendor}${engine.gpu.info.isSoftware ? ' (software)' : ''}`,
  );
  let bar: Progress | null = null;
  const result = await runDemo({
    out: hostDemoFolder(host.files, options.out),
    seed,
    ...size,
    train,
    hooks: {
      onPhase: (phase) => say(`== ${phase}`),
      onLog: say,
      onStep(info) {
        if (options.quiet || options.json) return;
        if (info.step === 0 || !bar) {
          bar?.stop();
          bar = host.progress(`epoch ${info.epoch + 1}`, info.steps, 'steps');
        }
        bar.update(info.step + 1, `loss ${info.loss.toFixed(4)}`);
      },
      onEpoch(m) {
        bar?.stop();
        bar = null;
        say(
          `epoch ${m.epoch + 1}: loss ${m.trainLoss?.toFixed(4)}, validation Dice ${m.validationDice?.toFixed(4) ?? '—'} (${m.seconds.toFixed(0)} s)`,
        );
      },
    },
  });
  if (options.json) {
    host.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    host.stdout.write(
      [
        `test Dice ${result.score.mean.toFixed(4)} (an empty prediction scores ${result.emptyScore.toFixed(4)})`,
        ...result.score.images.map((i) => `  ${i.id}: ${i.dice.toFixed(4)}`),
        `training ${result.trainSeconds.toFixed(0)} s, total ${result.totalSeconds.toFixed(0)} s`,
        `report: ${options.out}/report.html   submission: ${options.out}/submission.csv`,
      ].join('\n') + '\n',
    );
  }
  return ExitCode.ok;
}
