import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, manualSeedInit, uniformTensor } from '@nephron/nn';
import { conv2d, init, manualSeed, type Tensor } from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { NO_AUGMENT } from '../augment/params.js';
import { loadDataset } from '../dataset/load-dataset.js';
import { writeSyntheticDataset } from '../synthetic/write-dataset.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig, validateTrainConfig } from './config.js';
import { memoryRunFolder } from './run-folder.js';
import { type StepInfo, Trainer } from './trainer.js';

/** Two 3×3 convolutions: small enough for the software GPU, enough to learn "purple and round". */
class TinyNet extends Module {
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
  constructor() {
    super();
    this.w1 = this.registerParameter('w1', uniformTensor([8, 3, 3, 3], -0.3, 0.3));
    this.b1 = this.registerParameter('b1', uniformTensor([8], -0.1, 0.1));
    this.w2 = this.registerParameter('w2', uniformTensor([2, 8, 3, 3], -0.3, 0.3));
    this.b2 = this.registerParameter('b2', uniformTensor([2], -0.1, 0.1));
  }
  forward(x: Tensor): Tensor {
    const h = conv2d(x, this.w1, this.b1, { padding: 1 }).relu();
    return conv2d(h, this.w2, this.b2, { padding: 1 });
  }
}

/** Two-class cross entropy as the softplus of the signed logit gap (what softmax CE is for two classes). */
function twoClassCe(logits: Tensor, target: Tensor): Tensor {
  const gap = logits
    .narrow(1, 1, 1)
    .sub(logits.narrow(1, 0, 1))
    .squeeze(1);
  const sign = target.to('float32').mul(2).sub(1);
  return gap.mul(sign).neg().exp().add(1).log().mean();
}

let dataDir: string;
beforeAll(async () => {
  await init();
  dataDir = join(await mkdtemp(join(tmpdir(), 'nephron-trainer-')), 'data');
  await writeSyntheticDataset(dataDir, {
    trainImages: 3,
    testImages: 1,
    width: 192,
    height: 160,
    seed: 4,
    tileSize: 64,
  });
});

const config: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  encoder: 'tiny',
  epochs: 2,
  batchSize: 2,
  lr: 0.01,
  downscale: 2,
  tile: 32,
  randomTilesPerImage: 4,
  stepsPerEpoch: 3,
  validation: [],
  augment: { ...NO_AUGMENT, flip: true, rotate: 15 },
  seed: 5,
};

async function run(
  epochs: number,
  folder = memoryRunFolder(),
  resume = false,
  options: Partial<TrainConfig> = {},
) {
  manualSeedInit(7);
  manualSeed(11);
  const dataset = await loadDataset(dataDir);
  const losses: StepInfo[] = [];
  const trainer = new Trainer(dataset, new TinyNet(), twoClassCe, { ...config, ...options, epochs }, folder, {
    onStep: (s) => losses.push(s),
  });
  if (resume) expect(await trainer.resume()).toBe(true);
  const result = await trainer.train();
  return { result, losses, folder, trainer };
}

describe('Trainer', () => {
  it('trains, validates on a held-out fold, and writes every run file', async () => {
    const { result, losses, folder } = await run(2);
    expect(losses).toHaveLength(6);
    expect(losses.every((l) => Number.isFinite(l.loss))).toBe(true);
    expect(result.metrics).toHaveLength(2);
    expect(result.metrics[0].validationDice).not.toBeNull();
    for (const file of [
      'config.json',
      'model.safetensors',
      'last.safetensors',
      'metrics.jsonl',
      'metrics.csv',
    ]) {
      expect(folder.files.has(file)).toBe(true);
    }
    const csv = new TextDecoder().decode(folder.files.get('metrics.csv'));
    expect(csv.split('\n')[0]).toBe('epoch,train_loss,validation_dice,lr,steps,seconds');
    // report.html: the charts, both epochs, and the held-out slide as the saved model predicted it.
    const listing = JSON.parse(new TextDecoder().decode(folder.files.get('validation.json'))) as {
      id: string;
      dice: number;
      epoch: number;
    }[];
    expect(listing.length).toBeGreaterThan(0);
    const bestDice = result.progress.bestDice as number;
    expect(listing.reduce((sum, s) => sum + s.dice, 0) / listing.length).toBeCloseTo(bestDice, 10);
    const png = folder.files.get(`validation/${listing[0].id}.png`) as Uint8Array;
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    const html = new TextDecoder().decode(folder.files.get('report.html'));
    expect(html).toContain('Validation Dice');
    expect(html).toContain('Learning rate');
    expect(html).toContain(`${listing[0].id} — Dice ${listing[0].dice.toFixed(3)}`);
    expect(html).toContain('data:image/png;base64,');
    expect(html.match(/<tr><td>\d+<\/td>/g)).toHaveLength(2);
    // The learning rate follows the warm-restart cosine, stepped fractionally: below the base after 2 epochs.
    expect(losses[5].lr).toBeLessThan(config.lr);
  });

  it('resumes from last.safetensors with exactly the losses of an uninterrupted run', async () => {
    const whole = await run(2);
    const folder = memoryRunFolder();
    await run(1, folder);
    const resumed = await run(2, folder, true);
    expect(resumed.losses.map((l) => l.epoch)).toEqual([1, 1, 1]);
    expect(resumed.losses.map((l) => l.loss)).toEqual(whole.losses.slice(3).map((l) => l.loss));
    expect(resumed.result.metrics).toHaveLength(2);
  });

  it('mixed precision follows the f32 losses, logs the loss scale per step and restores it on resume', async () => {
    const f32 = await run(2);
    const mixed = await run(2, memoryRunFolder(), false, { precision: 'mixed' });
    // Half activations perturb each step by about 2⁻¹¹ relative; over six AdamW steps the losses stay within 1%.
    mixed.losses.forEach((l, i) => {
      expect(Math.abs(l.loss - f32.losses[i].loss)).toBeLessThan(0.01 * f32.losses[i].loss);
    });
    const steps = new TextDecoder()
      .decode(mixed.folder.files.get('steps.jsonl'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(steps).toHaveLength(6);
    for (const r of steps) expect(r).toMatchObject({ lossScale: 2 ** 16, skipped: false });
    expect(mixed.trainer.scaler?.cleanSteps).toBe(6);
    const folder = memoryRunFolder();
    await run(1, folder, false, { precision: 'mixed' });
    const resumed = await run(2, folder, true, { precision: 'mixed' });
    expect(resumed.losses.map((l) => l.loss)).toEqual(mixed.losses.slice(3).map((l) => l.loss));
    expect(resumed.trainer.scaler?.stateDict()).toEqual(mixed.trainer.scaler?.stateDict());
  });

  it('refuses an unknown precision, naming the field', () => {
    expect(() => validateTrainConfig({ ...config, precision: 'f16' as never })).toThrow(
      /precision must be 'f32' or 'mixed', got "f16"/,
    );
  });

  it('stops cleanly with a checkpoint when asked to', async () => {
    manualSeedInit(7);
    const dataset = await loadDataset(dataDir);
    const folder = memoryRunFolder();
    let steps = 0;
    const trainer = new Trainer(dataset, new TinyNet(), twoClassCe, config, folder, {
      onStep: () => steps++,
      shouldStop: () => steps >= 2,
    });
    const result = await trainer.train();
    expect(result.stopped).toBe(true);
    expect(result.progress).toMatchObject({ epoch: 0, step: 2 });
    expect(folder.files.has('last.safetensors')).toBe(true);
  });
});
