import { parseRle } from '@nephron/io';
import { DEFAULT_AUGMENT, NO_AUGMENT } from './augment/params.js';
import { type DataFolder, nodeDataFolder } from './dataset/data-folder.js';
import { type Dataset, loadDataset, openDatasetImage } from './dataset/load-dataset.js';
import { predictImages, submissionCsv } from './inference/predict-images.js';
import { createSegmentationModel, loadSegmentationModel } from './model.js';
import { trainingReportHtml } from './report/training-report.js';
import { type SubmissionScore, scoreSubmission } from './scoring/score-submission.js';
import { writeSyntheticDatasetTo } from './synthetic/write-dataset.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './training/config.js';
import { segmentationLoss } from './training/loss.js';
import { nodeRunFolder, type RunFolder } from './training/run-folder.js';
import { type StepInfo, Trainer, type TrainHooks } from './training/trainer.js';

/**
 * The demo's output folder: files are read and written by paths relative to it ('run/model.safetensors'), and the
 * dataset loader reads data/ from it. A folder on disk in Node ({@link nodeDemoFolder}); a CLI host's files, so in
 * a page the browser's private file system.
 */
export type DemoFolder = RunFolder & DataFolder;

/** A folder on the local disk as the demo writes it (Node only). */
export function nodeDemoFolder(dir: string): DemoFolder {
  return { ...nodeDataFolder(dir), ...nodeRunFolder(dir), name: dir };
}

/** `dir` inside a demo folder, as a folder of its own. */
export function demoSubfolder(folder: DemoFolder, dir: string): DemoFolder {
  const at = (path: string) => (path === '' ? dir : `${dir}/${path}`);
  return {
    name: `${folder.name.replace(/\/+$/, '')}/${dir}`,
    list: (subdir) => folder.list(at(subdir)),
    open: (path) => folder.open(at(path)),
    read: (path) => folder.read(at(path)),
    write: (path, data) => folder.write(at(path), data),
  };
}

export interface DemoOptions {
  /** Folder for everything: data/, run/, predictions/, submission.csv, score.json, report.html. */
  out: DemoFolder;
  seed?: number;
  trainImages?: number;
  testImages?: number;
  width?: number;
  height?: number;
  /** Training overrides (the demo's defaults are a small configuration for a software GPU). */
  train?: Partial<TrainConfig>;
  hooks?: TrainHooks & { onPhase?(phase: string): void };
}

export interface DemoResult {
  score: SubmissionScore;
  /** The score of predicting nothing, for comparison. */
  emptyScore: number;
  bestValidationDice: number | null;
  trainSeconds: number;
  totalSeconds: number;
}

/** The demo's training settings: a small EfficientNet-B0 UNet that learns the synthetic slides in minutes on a CPU. */
export const DEMO_TRAIN_CONFIG: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  encoder: 'efficientnet-b0',
  epochs: 3,
  batchSize: 4,
  lr: 2e-3,
  downscale: 2,
  tile: 128,
  randomTilesPerImage: 12,
  stepsPerEpoch: 12,
  folds: 4,
  t0: 3,
  augment: { ...DEFAULT_AUGMENT, elastic: 2, blurProbability: 0.1 },
  // 72 steps are far too few for EfficientNet's batch-norm momentum of 0.01 to settle the eval-mode statistics.
  bnMomentum: 0.2,
};

/**
 * nephron's main job on a fresh machine, with no download: generate a synthetic Kaggle-layout dataset, train a
 * small UNet on it, predict the held-out test slides, score them against their solution and write a report.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const out = options.out;
  const phase = (p: string) => options.hooks?.onPhase?.(p);
  const data = demoSubfolder(out, 'data');
  // train.csv is the dataset's last file: a folder without it was left half-written, and is written again.
  if ((await data.read('train.csv')) === undefined) {
    phase('generating the synthetic dataset');
    await writeSyntheticDatasetTo(data, {
      trainImages: options.trainImages ?? 4,
      testImages: options.testImages ?? 2,
      width: options.width ?? 768,
      height: options.height ?? 576,
      seed: options.seed ?? 1,
    });
  }
  const dataset: Dataset = await loadDataset(data);
  const config: TrainConfig = {
    ...DEMO_TRAIN_CONFIG,
    seed: options.seed ?? DEMO_TRAIN_CONFIG.seed,
    ...options.train,
  };
  const run = demoSubfolder(out, 'run');
  const lrSchedule: [number, number][] = [];
  const stepLosses: [number, number][] = [];
  const hooks: TrainHooks = {
    ...options.hooks,
    onStep(info: StepInfo) {
      const at = info.epoch + (info.step + 1) / info.steps;
      lrSchedule.push([at, info.lr]);
      stepLosses.push([at, info.loss]);
      options.hooks?.onStep?.(info);
    },
  };
  phase('training');
  const trainStarted = performance.now();
  const trainer = new Trainer(
    dataset,
    createSegmentationModel(config.encoder, config.classes),
    segmentationLoss,
    config,
    run,
    hooks,
  );
  const trained = await trainer.train();
  const trainSeconds = (performance.now() - trainStarted) / 1000;
  trainer.model.dispose();

  phase('predicting the test slides');
  const modelBytes = await run.read('model.safetensors');
  if (!modelBytes) throw new Error(`${run.name}: training wrote no model.safetensors`);
  const { model, info } = loadSegmentationModel(modelBytes, `${run.name}/model.safetensors`);
  const predictions = demoSubfolder(out, 'predictions');
  const results = await predictImages(
    dataset.test.map((image) => ({ id: image.id, open: () => openDatasetImage(dataset, image) })),
    [model],
    predictions,
    {
      downscale: info.downscale,
      tile: info.tile,
      threshold: info.threshold,
      batchSize: config.batchSize,
      thumbnail: 768,
    },
  );
  model.dispose();
  const submission = submissionCsv(
    dataset.test.map((t) => t.id),
    results,
  );
  await out.write('submission.csv', submission);

  phase('scoring');
  const solutionBytes = await data.read('solution.csv');
  if (!solutionBytes) throw new Error(`${data.name}: the dataset has no solution.csv to score against`);
  const solution = new TextDecoder().decode(solutionBytes);
  const score = await scoreSubmission(submission, solution);
  const empty = submissionCsv(
    dataset.test.map((t) => t.id),
    new Map(dataset.test.map((t) => [t.id, { runs: parseRle('', { width: t.width, height: t.height }) }])),
  );
  const emptyScore = (await scoreSubmission(empty, solution)).mean;
  await out.write('score.json', `${JSON.stringify({ ...score, emptyScore }, null, 2)}\n`);

  phase('writing the report');
  const samples = [];
  for (const image of dataset.test) {
    const png = await predictions.read(`slides/${image.id}.png`);
    const s = score.images.find((i) => i.id === image.id);
    if (png) samples.push({ title: `${image.id} (test) — Dice ${s ? s.dice.toFixed(3) : '?'}`, png });
  }
  const html = trainingReportHtml({
    title: 'nephron demo: UNet-EfficientNet on synthetic PAS slides',
    metrics: trained.metrics,
    lrSchedule,
    stepLosses,
    samples,
    samplesTitle: 'Held-out test slides',
    config: { ...config, augment: config.augment === NO_AUGMENT ? 'none' : config.augment },
    notes: [
      `Test Dice ${score.mean.toFixed(4)} (predicting nothing scores ${emptyScore.toFixed(4)}); training took ${trainSeconds.toFixed(0)} s.`,
    ],
  });
  await out.write('report.html', html);
  await run.write('report.html', html);
  return {
    score,
    emptyScore,
    bestValidationDice: trained.progress.bestDice,
    trainSeconds,
    totalSeconds: (performance.now() - started) / 1000,
  };
}
