import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdamW,
  CosineAnnealingWarmRestarts,
  Module,
  manualSeedInit,
  saveSafetensors,
  uniformTensor,
} from '@nephron/nn';
import { conv2d, init, manualSeed, type Tensor } from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { NO_AUGMENT } from '../augment/params.js';
import { loadDataset } from '../dataset/load-dataset.js';
import { writeSyntheticDataset } from '../synthetic/write-dataset.js';
import { CheckpointError, restoreCheckpoint, serializeCheckpoint } from './checkpoint.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './config.js';
import type { EpochMetrics, StepRecord } from './metrics.js';
import { memoryRunFolder } from './run-folder.js';
import { Trainer } from './trainer.js';

/** A 3×3 convolution pair with `hidden` channels: two widths make two models that do not fit each other. */
class TinyNet extends Module {
  w1: Tensor;
  w2: Tensor;
  constructor(hidden = 4) {
    super();
    this.w1 = this.registerParameter('w1', uniformTensor([hidden, 3, 3, 3], -0.3, 0.3));
    this.w2 = this.registerParameter('w2', uniformTensor([2, hidden, 3, 3], -0.3, 0.3));
  }
  forward(x: Tensor): Tensor {
    return conv2d(conv2d(x, this.w1, undefined, { padding: 1 }).relu(), this.w2, undefined, { padding: 1 });
  }
}

function meanLoss(logits: Tensor, target: Tensor): Tensor {
  const error = logits.narrow(1, 1, 1).squeeze(1).sub(target.to('float32'));
  return error.mul(error).mean();
}

function parts(model: Module) {
  const optimizer = new AdamW(model.parameters(), { lr: 0.01 });
  return { model, optimizer, scheduler: new CosineAnnealingWarmRestarts(optimizer as never, { T_0: 5 }) };
}

let dataDir: string;
beforeAll(async () => {
  await init();
  dataDir = join(await mkdtemp(join(tmpdir(), 'nephron-checkpoint-')), 'data');
  await writeSyntheticDataset(dataDir, { trainImages: 2, testImages: 0, width: 128, height: 96, seed: 3 });
});

describe('restoreCheckpoint errors name the file', () => {
  it('a model that does not fit: the file, the encoder it was written for, and the mismatched key', async () => {
    manualSeedInit(1);
    const saved = parts(new TinyNet(4));
    const bytes = await serializeCheckpoint({
      ...saved,
      progress: { epoch: 1, step: 0, globalStep: 3, bestDice: null },
      config: { encoder: 'efficientnet-b4' },
    });
    const restore = () => restoreCheckpoint(bytes, 'runs/b4/last.safetensors', parts(new TinyNet(8)));
    expect(restore).toThrow(CheckpointError);
    expect(restore).toThrow(
      /^runs\/b4\/last\.safetensors: the model does not fit it \(it was written for encoder efficientnet-b4\): .*size mismatch for w1: checkpoint has \[4,3,3,3\], model has \[8,3,3,3\]/s,
    );
    // The same bytes restore into a model of the right shape.
    expect(restoreCheckpoint(bytes, 'last.safetensors', parts(new TinyNet(4))).progress.globalStep).toBe(3);
  });

  it('a model file (not a checkpoint) and metadata that is not JSON', async () => {
    const model = new TinyNet(4);
    const plain = await saveSafetensors(model.stateDict(), { metadata: { format: 'nephron-model-1' } });
    expect(() => restoreCheckpoint(plain, 'model.safetensors', parts(model))).toThrow(
      'model.safetensors: not a nephron training checkpoint (metadata format "nephron-model-1")',
    );
    const broken = await saveSafetensors(model.stateDict(), {
      metadata: { format: 'nephron-checkpoint-1', progress: '{', config: '{}' },
    });
    expect(() => restoreCheckpoint(broken, 'x/last.safetensors', parts(model))).toThrow(
      'x/last.safetensors: metadata "progress" is missing or not JSON',
    );
  });
});

describe('resuming in the middle of an epoch', () => {
  const config: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    encoder: 'tiny',
    epochs: 2,
    batchSize: 2,
    downscale: 2,
    tile: 32,
    randomTilesPerImage: 4,
    stepsPerEpoch: 3,
    folds: 1,
    checkpointEvery: 1,
    augment: NO_AUGMENT,
  };

  type Folder = ReturnType<typeof memoryRunFolder>;

  async function train(folder: Folder = memoryRunFolder(), stopAfter = Number.POSITIVE_INFINITY) {
    manualSeedInit(2);
    manualSeed(2);
    let steps = 0;
    const trainer = new Trainer(await loadDataset(dataDir), new TinyNet(), meanLoss, config, folder, {
      onStep: () => steps++,
      shouldStop: () => steps >= stopAfter,
    });
    await trainer.resume();
    return { result: await trainer.train(), folder };
  }

  /** The folder as a process killed just before its first write of `file` leaves it. */
  async function killedBefore(file: string): Promise<Folder> {
    const folder = memoryRunFolder();
    const dying: Folder = {
      ...folder,
      async write(name, data) {
        if (name === file) throw new Error(`killed before writing ${file}`);
        await folder.write(name, data);
      },
    };
    await expect(train(dying)).rejects.toThrow(`killed before writing ${file}`);
    return folder;
  }

  const text = (folder: Folder, file: string) => new TextDecoder().decode(folder.files.get(file));
  const lines = <T>(folder: Folder, file: string): T[] =>
    text(folder, file)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as T);
  const withoutSeconds = (rows: EpochMetrics[]) => rows.map(({ seconds: _, ...m }) => m);

  it('keeps every step in steps.jsonl and the epoch loss over all its steps, as an uninterrupted run', async () => {
    const whole = await train();
    const stopped = await train(memoryRunFolder(), 1);
    expect(stopped.result.stopped).toBe(true);
    expect(lines<StepRecord>(stopped.folder, 'steps.jsonl')).toHaveLength(1);
    // Killed after the checkpoint of epoch 0's last step, before the epoch's metrics: none of its steps is left.
    const endOfEpoch = await killedBefore('metrics.jsonl');
    expect(lines<StepRecord>(endOfEpoch, 'steps.jsonl')).toHaveLength(3);
    for (const folder of [stopped.folder, endOfEpoch]) {
      const resumed = await train(folder);
      expect(resumed.result.stopped).toBe(false);
      expect(text(resumed.folder, 'steps.jsonl')).toBe(text(whole.folder, 'steps.jsonl'));
      expect(withoutSeconds(lines(resumed.folder, 'metrics.jsonl'))).toEqual(
        withoutSeconds(lines(whole.folder, 'metrics.jsonl')),
      );
    }
    expect(lines<StepRecord>(whole.folder, 'steps.jsonl').map((r) => r.globalStep)).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
  });

  it('refuses to resume with other training options, naming each; more epochs are fine', async () => {
    const stopped = await train(memoryRunFolder(), 1);
    const dataset = await loadDataset(dataDir);
    const other = new Trainer(
      dataset,
      new TinyNet(),
      meanLoss,
      { ...config, batchSize: 1, lr: 0.5 },
      stopped.folder,
    );
    await expect(other.resume()).rejects.toThrow(CheckpointError);
    await expect(other.resume()).rejects.toThrow(
      /memory\/last\.safetensors was written with other training options.*\n {2}batchSize: 2 → 1\n {2}lr: 0\.001 → 0\.5$/s,
    );
    const longer = new Trainer(dataset, new TinyNet(), meanLoss, { ...config, epochs: 3 }, stopped.folder);
    expect(await longer.resume()).toBe(true);
  });

  it('drops the steps.jsonl lines the checkpoint does not hold (a kill between the two writes)', async () => {
    const whole = await train();
    const first = await train(memoryRunFolder(), 2);
    // As if killed after steps.jsonl was written for step 4 but before its checkpoint.
    first.folder.files.set('steps.jsonl', whole.folder.files.get('steps.jsonl')!.slice());
    const resumed = await train(first.folder);
    expect(text(resumed.folder, 'steps.jsonl')).toBe(text(whole.folder, 'steps.jsonl'));
  });
});
