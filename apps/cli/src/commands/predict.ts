import {
  checkInferencePrecision,
  type DatasetImage,
  loadDataset,
  loadSegmentationModel,
  type ModelInfo,
  predictImages,
  type SegmentationNetwork,
  shardOf,
  submissionCsv,
} from '@nephron/hubmap';
import { openTiff } from '@nephron/io';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { openEngine } from '../engine.js';
import { hostDataFolder, readFileBytes } from '../host/files.js';
import { ExitCode, type Host } from '../host/host.js';
import { hostRunFolder } from '../host/run-folder.js';
import { parseShard, positiveInt, positiveNumber, UsageError, withConfigFile } from './options.js';

export interface PredictOptions {
  model: string[];
  images: string;
  out: string;
  work?: string;
  threshold?: string;
  batchSize: string;
  tta?: boolean;
  precision?: string;
  shard?: string;
  downscale?: string;
  tile?: string;
  encoder?: string;
  json?: boolean;
  quiet?: boolean;
  config?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerPredict(program: Command, context: CommandContext): void {
  const command = program
    .command('predict')
    .description('find glomeruli in every slide of a folder and write a submission (id,predicted)')
    .requiredOption(
      '--model <file>',
      'model.safetensors from `nephron train` (repeat to average several models)',
      collect,
    )
    .requiredOption(
      '--images <dir>',
      'a Kaggle-layout dataset (its test/ slides) or a folder of .tiff slides',
    )
    .requiredOption('--out <file>', 'the submission CSV to write')
    .option(
      '--work <dir>',
      'per-slide results, overlays and summaries (default: <out> without .csv, plus ".slides")',
    )
    .option('--threshold <p>', "probability threshold (default: the model's, else 0.5)")
    .option('--batch-size <n>', 'tiles per GPU batch', '4')
    .option('--tta', 'average over horizontal and vertical flips too')
    .option(
      '--precision <p>',
      'f32, or f16: half-precision weights and activations (needs shader-f16)',
      'f32',
    )
    .option('--shard <i/n>', 'predict only every n-th slide starting at i (then `nephron merge` the shards)')
    .option('--downscale <s>', 'override the training scale stored in the model')
    .option('--tile <px>', 'override the tile size stored in the model')
    .option('--encoder <name>', 'encoder, for state dicts that do not say (e.g. from smp)')
    .option('--config <file>', 'JSON file of option values (flags given on the command line win)')
    .option('--json', 'print a JSON summary')
    .option('--quiet', 'print nothing but errors');
  command
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron predict --model runs/b4/model.safetensors --images data --out submission.csv',
        '  $ nephron predict --model a.safetensors --model b.safetensors --tta --images data --out sub.csv',
        '  $ nephron predict --model m.safetensors --images data --out part-0.csv --shard 0/4   # one of 4 jobs',
        '',
        'Each finished slide is saved at once; run the same command again after an interruption and it',
        'skips the slides already done.',
      ].join('\n'),
    )
    .action(async (raw: PredictOptions) => {
      const options = await withConfigFile(command, raw, context.host.files);
      context.setExitCode(await predict(context.host, options));
    });
}

/**
 * The slides to predict, in submission order: a dataset's test split, or every TIFF of a plain folder.
 * Nothing to predict is a usage mistake (a wrong folder, most likely), refused before any model is loaded.
 */
async function listSlides(host: Host, dir: string): Promise<{ id: string; path: string }[]> {
  const top = await host.files.list(dir);
  if (top === undefined) throw new UsageError(`--images ${dir}: no such folder`);
  if (top.includes('sample_submission.csv') || (await host.files.list(`${dir}/test`)) !== undefined) {
    const dataset = await loadDataset(hostDataFolder(host.files, dir));
    if (dataset.test.length === 0) {
      throw new UsageError(
        `--images ${dir}: the test split is empty (no slides in test/ or sample_submission.csv); nothing to predict`,
      );
    }
    return dataset.test.map((image: DatasetImage) => ({ id: image.id, path: `${dir}/${image.image}` }));
  }
  const slides = top.filter((name) => /\.tiff?$/i.test(name)).sort();
  if (slides.length === 0)
    throw new UsageError(`--images ${dir}: no .tiff slides and no test/ folder; nothing to predict`);
  return slides.map((name) => ({ id: name.replace(/\.tiff?$/i, ''), path: `${dir}/${name}` }));
}

export async function predict(host: Host, options: PredictOptions): Promise<ExitCode> {
  const say = (text: string) => {
    if (!options.quiet && !options.json) host.stderr.write(`${text}\n`);
  };
  const precision = options.precision ?? 'f32';
  if (precision !== 'f32' && precision !== 'f16')
    throw new UsageError(`--precision must be f32 or f16, got "${precision}"`);
  const all = await listSlides(host, options.images);
  await openEngine(host);
  checkInferencePrecision(precision);
  const models: SegmentationNetwork[] = [];
  let info: ModelInfo | null = null;
  for (const path of options.model) {
    const loaded = loadSegmentationModel(await readFileBytes(host.files, path), path, {
      ...(options.encoder ? { encoder: options.encoder } : {}),
      ...(options.downscale ? { downscale: positiveNumber('--downscale', options.downscale) } : {}),
      ...(options.tile ? { tile: positiveInt('--tile', options.tile) } : {}),
    });
    if (info && (loaded.info.downscale !== info.downscale || loaded.info.tile !== info.tile)) {
      throw new UsageError(
        `${path}: trained at downscale ${loaded.info.downscale}, tile ${loaded.info.tile}; the first model at ${info.downscale}, ${info.tile}`,
      );
    }
    info ??= loaded.info;
    models.push(loaded.model);
  }
  if (!info) throw new UsageError('--model is required');
  const downscale = options.downscale ? positiveNumber('--downscale', options.downscale) : info.downscale;
  const tile = options.tile ? positiveInt('--tile', options.tile) : info.tile;
  const threshold = options.threshold === undefined ? info.threshold : Number(options.threshold);
  if (!(threshold > 0 && threshold < 1))
    throw new UsageError(`--threshold must be in (0, 1), got "${options.threshold}"`);
  const shard = options.shard ? parseShard(options.shard) : { index: 0, count: 1 };
  const slides = shardOf(all, shard.index, shard.count);
  const work = hostRunFolder(host.files, options.work ?? `${options.out.replace(/\.csv$/i, '')}.slides`);
  say(
    `${slides.length} slide(s)${shard.count > 1 ? ` (shard ${shard.index}/${shard.count} of ${all.length})` : ''}, ${models.length} model(s), downscale ${downscale}, tile ${tile}`,
  );
  let done = 0;
  const results = await predictImages(
    slides.map((s) => ({ id: s.id, open: async () => openTiff(await host.files.open(s.path)) })),
    models,
    work,
    {
      downscale,
      tile,
      threshold,
      batchSize: positiveInt('--batch-size', options.batchSize),
      tta: options.tta ?? false,
      precision,
      onSlide(summary, reused) {
        done++;
        say(
          `${done}/${slides.length} ${summary.id}: ${summary.glomeruli} glomeruli, ${(summary.areaFraction * 100).toFixed(2)}% of the slide${reused ? ' (already done)' : ''}`,
        );
      },
    },
  );
  await host.files.write(
    options.out,
    submissionCsv(
      slides.map((s) => s.id),
      results,
    ),
  );
  const summaries = slides.map((s) => results.get(s.id)!.summary);
  if (options.json)
    host.stdout.write(`${JSON.stringify({ submission: options.out, slides: summaries }, null, 2)}\n`);
  else say(`wrote ${options.out}`);
  for (const m of models) m.dispose();
  return ExitCode.ok;
}
