import { runDemo } from '@nephron/hubmap';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { openEngine } from '../engine.js';
import { ExitCode, type Host } from '../host/host.js';
import { positiveInt } from './options.js';

export interface DemoOptions {
  out: string;
  epochs?: string;
  stepsPerEpoch?: string;
  seed: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerDemo(program: Command, context: CommandContext): void {
  program
    .command('demo')
    .description('the whole job on built-in synthetic slides: generate data, train, predict, score, report')
    .option(
      '--out <dir>',
      'folder for data/, run/, predictions/, submission.csv, score.json, report.html',
      'demo-out',
    )
    .option('--epochs <n>', 'training epochs (default: the demo configuration)')
    .option('--steps-per-epoch <n>', 'optimizer steps per epoch (default: the demo configuration)')
    .option('--seed <n>', 'seed of the data and the training', '1')
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'print nothing but errors')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron demo                         # a few minutes on a CPU-only machine',
        '  $ nephron demo --out /tmp/demo --epochs 2 --steps-per-epoch 4',
        '',
        'Open <out>/report.html afterwards: loss and Dice curves, the learning-rate schedule and the',
        'predicted glomeruli outlined on the test slides.',
      ].join('\n'),
    )
    .action(async (options: DemoOptions) => context.setExitCode(await demo(context.host, options)));
}

export async function demo(host: Host, options: DemoOptions): Promise<ExitCode> {
  const say = (text: string) => {
    if (!options.quiet && !options.json) host.stderr.write(`${text}\n`);
  };
  const engine = await openEngine(host);
  say(
    `GPU: ${engine.gpu.info.description || engine.gpu.info.vendor}${engine.gpu.info.isSoftware ? ' (software)' : ''}`,
  );
  let bar: ReturnType<Host['progress']> | null = null;
  const train: Record<string, number> = {};
  if (options.epochs) train.epochs = positiveInt('--epochs', options.epochs);
  if (options.stepsPerEpoch) train.stepsPerEpoch = positiveInt('--steps-per-epoch', options.stepsPerEpoch);
  const result = await runDemo({
    out: options.out,
    seed: positiveInt('--seed', options.seed),
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
