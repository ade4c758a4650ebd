import { parseRle, type RleRuns } from '@nephron/io';
import {
  AdamW,
  BatchNorm2d,
  CosineAnnealingWarmRestarts,
  LossScaler,
  type Module,
  type ScaledStep,
} from '@nephron/nn';
import { autocast, cast, getEngine, keep, type Tensor, tidy } from '@nephron/tensor';
import { augmentBatch } from '../augment/augment.js';
import { extractCrop } from '../augment/crop.js';
import { cropSize, drawAugment } from '../augment/params.js';
import { kFoldSplit } from '../dataset/folds.js';
import type { Dataset, TrainImage } from '../dataset/load-dataset.js';
import { openDatasetImage } from '../dataset/load-dataset.js';
import { slideOverlay } from '../inference/overlay.js';
import { predictSlide } from '../inference/predict-slide.js';
import { tiffSlideSource } from '../inference/slide-source.js';
import { Random } from '../random.js';
import { runReportHtml, type ValidationSample } from '../report/run-report.js';
import { type TileCentre, TileSampler } from '../sampling/sampler.js';
import { runDice } from '../scoring/run-dice.js';
import { CheckpointError, type Progress, restoreCheckpoint, serializeCheckpoint } from './checkpoint.js';
import { type TrainConfig, validateTrainConfig } from './config.js';
import { type EpochMetrics, metricsCsv, metricsJsonl, type StepRecord, stepsJsonl } from './metrics.js';
import { resumeConflicts } from './resume-check.js';
import type { RunFolder } from './run-folder.js';
import { loadTrainingImage, type TrainingImage } from './training-image.js';

/** Largest side of the validation overlays in report.html. */
const REPORT_THUMBNAIL = 768;

/** A network that maps N×3×T×T images to N×C×T×T logits. */
export interface SegmentationNetwork extends Module {
  forward(x: Tensor): Tensor;
}

export type LossFunction = (logits: Tensor, target: Tensor) => Tensor;

export interface StepInfo {
  epoch: number;
  step: number;
  steps: number;
  loss: number;
  lr: number;
}

export interface TrainHooks {
  onStep?(info: StepInfo): void;
  onEpoch?(metrics: EpochMetrics): void;
  onLog?(message: string): void;
  /** Asked before every step; true stops after writing a checkpoint (SIGINT). */
  shouldStop?(): boolean;
}

/** Training stopped because the loss became NaN or infinite; the last good checkpoint is untouched. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

export interface TrainResult {
  metrics: EpochMetrics[];
  progress: Progress;
  stopped: boolean;
}

/** Mixes integers into one 32-bit seed (so each epoch and step has its own reproducible stream). */
export function mixSeed(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h >>> 0;
}

export function splitTrainValidation(
  dataset: Dataset,
  config: TrainConfig,
): { train: TrainImage[]; validation: TrainImage[] } {
  const ids = dataset.train.map((t) => t.id);
  let validationIds: Set<string>;
  if (config.validation.length) {
    const unknown = config.validation.filter((id) => !ids.includes(id));
    if (unknown.length) throw new RangeError(`validation images not in train.csv: ${unknown.join(', ')}`);
    validationIds = new Set(config.validation);
  } else if (ids.length >= 2 && config.folds >= 2) {
    const folds = kFoldSplit(ids, Math.min(config.folds, ids.length), config.seed);
    validationIds = new Set(folds[config.fold % folds.length].valid);
  } else {
    validationIds = new Set();
  }
  return {
    train: dataset.train.filter((t) => !validationIds.has(t.id)),
    validation: dataset.train.filter((t) => validationIds.has(t.id)),
  };
}

/**
 * The training loop of the reference solution: deepflash2 sampling, GPU augmentation, UNet forward, CE + Dice,
 * AdamW, cosine annealing with warm restarts stepped fractionally every iteration; validation Dice on held-out
 * slides each epoch; `model.safetensors` (best), `last.safetensors` (everything needed to resume), metrics, and
 * `steps.jsonl` (every step's loss and learning rate).
 */
export class Trainer {
  readonly optimizer: AdamW;
  readonly scheduler: CosineAnnealingWarmRestarts;
  /** Mixed precision only: the dynamic loss scale, and what it did on the last step. */
  readonly scaler: LossScaler | null;
  private lastScaled: ScaledStep | null = null;
  private images: TrainingImage[] = [];
  private validation: TrainImage[] = [];
  private sampler: TileSampler | null = null;
  private metrics: EpochMetrics[] = [];
  private steps: StepRecord[] = [];
  /** The last validation's predictions, kept until the epoch knows whether it improved (then drawn for the report). */
  private lastValidation: { image: TrainImage; dice: number; runs: RleRuns }[] = [];
  progress: Progress = { epoch: 0, step: 0, globalStep: 0, bestDice: null };

  constructor(
    readonly dataset: Dataset,
    readonly model: SegmentationNetwork,
    readonly loss: LossFunction,
    readonly config: TrainConfig,
    readonly run: RunFolder,
    readonly hooks: TrainHooks = {},
  ) {
    validateTrainConfig(config);
    if (config.precision === 'mixed' && !getEngine().hasF16) {
      throw new Error(
        "precision 'mixed' needs float16 shaders, and this GPU's adapter does not offer 'shader-f16'; train with " +
          "precision 'f32'",
      );
    }
    this.scaler = config.precision === 'mixed' ? new LossScaler() : null;
    if (config.bnMomentum !== null) {
      for (const m of model.modules()) if (m instanceof BatchNorm2d) m.momentum = config.bnMomentum;
    }
    this.optimizer = new AdamW(model.parameters(), { lr: config.lr, weightDecay: config.weightDecay });
    this.scheduler = new CosineAnnealingWarmRestarts(this.optimizer as never, {
      T_0: config.t0,
      T_mult: config.tMult,
      eta_min: config.etaMin,
    });
  }

  /** Loads the training slides into memory at the training scale and prepares the sampler. */
  async prepare(): Promise<void> {
    const { train, validation } = splitTrainValidation(this.dataset, this.config);
    if (train.length === 0)
      throw new RangeError(
        `${this.dataset.folder.name}: no training images left after holding out validation`,
      );
    this.validation = validation;
    for (const image of train) {
      this.hooks.onLog?.(`loading ${image.id} at 1/${this.config.downscale} scale`);
      this.images.push(await loadTrainingImage(this.dataset, image, this.config.downscale));
    }
    this.sampler = new TileSampler(
      this.images.map((im) => ({
        id: im.id,
        width: im.width,
        height: im.height,
        glomeruli: im.glomeruli,
        regions: im.regions,
      })),
      this.config.randomTilesPerImage,
    );
  }

  /** Continues from `last.safetensors` in the run folder; false when there is none. */
  async resume(): Promise<boolean> {
    const bytes = await this.run.read('last.safetensors');
    if (!bytes) return false;
    const restored = restoreCheckpoint(bytes, `${this.run.name}/last.safetensors`, {
      model: this.model,
      optimizer: this.optimizer,
      scheduler: this.scheduler,
    });
    const conflicts = resumeConflicts(restored.config, this.config);
    if (conflicts.length > 0) {
      throw new CheckpointError(
        `${this.run.name}/last.safetensors was written with other training options; resume with the same ones ` +
          `(only epochs and checkpointEvery may change) or train into a new folder:\n  ${conflicts.join('\n  ')}`,
      );
    }
    this.progress = restored.progress;
    const jsonl = await this.run.read('metrics.jsonl');
    if (jsonl) {
      this.metrics = new TextDecoder()
        .decode(jsonl)
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as EpochMetrics)
        .filter((m) => m.epoch < this.progress.epoch);
    }
    // steps.jsonl is written just before each checkpoint, so it may hold steps the checkpoint does not.
    const steps = await this.run.read('steps.jsonl');
    if (steps) {
      this.steps = new TextDecoder()
        .decode(steps)
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as StepRecord)
        .filter((r) => r.globalStep < this.progress.globalStep);
    }
    // The loss scale is a function of the steps' overflow history: replaying it restores the scaler exactly.
    if (this.scaler) for (const r of this.steps) this.scaler.update(r.skipped === true);
    return true;
  }

  private epochCentres(epoch: number): TileCentre[] {
    return this.sampler!.epoch(new Random(mixSeed(this.config.seed, epoch)));
  }

  stepsIn(epoch: number): number {
    const steps = Math.floor(this.epochCentres(epoch).length / this.config.batchSize);
    return Math.max(
      1,
      this.config.stepsPerEpoch === null ? steps : Math.min(steps, this.config.stepsPerEpoch),
    );
  }

  /** One optimizer step on batch `step` of `epoch`; returns the loss. */
  async trainStep(epoch: number, step: number, centres: readonly TileCentre[]): Promise<number> {
    const { batchSize, tile, augment } = this.config;
    const side = cropSize(tile, augment);
    const batch = Array.from(
      { length: batchSize },
      (_, k) => centres[(step * batchSize + k) % centres.length],
    );
    const crops = new Uint32Array(batchSize * side * side);
    const random = new Random(mixSeed(this.config.seed, epoch, step, 1));
    const params = batch.map((centre, k) => {
      const image = this.images.find((im) => im.id === centre.image)!;
      extractCrop(image, centre.x, centre.y, side, crops, k * side * side);
      return drawAugment(augment, random);
    });
    this.model.train();
    const scaler = this.scaler;
    const lossTensor = tidy(() => {
      const { image, mask } = augmentBatch(crops, side, tile, params, augment);
      // Mixed precision: half activations and convolutions against the float32 weights (the optimizer's master
      // copies, cast per use), the loss in float32, its gradient scaled up so half gradients stay in range.
      const logits = scaler
        ? cast(
            autocast(() => this.model.forward(image)),
            'float32',
          )
        : this.model.forward(image);
      const loss = this.loss(logits, mask);
      (scaler ? scaler.scaleLoss(loss) : loss).backward();
      if (!scaler) {
        this.optimizer.step();
        this.optimizer.zeroGrad();
      }
      return keep(loss.detach());
    });
    if (scaler) {
      this.lastScaled = await scaler.step(this.parameters, () => this.optimizer.step());
      this.optimizer.zeroGrad();
    }
    const value = await lossTensor.item();
    lossTensor.dispose();
    return value;
  }

  /** Dice of the held-out slides, predicted whole as at inference time. */
  async validate(): Promise<number | null> {
    this.lastValidation = [];
    if (this.validation.length === 0) return null;
    this.model.eval();
    let total = 0;
    for (const image of this.validation) {
      const file = await openDatasetImage(this.dataset, image);
      try {
        const prediction = await predictSlide(tiffSlideSource(image.id, file), [this.model], {
          downscale: this.config.downscale,
          tile: this.config.tile,
          batchSize: this.config.batchSize,
          tta: this.config.tta,
          threshold: this.config.threshold,
        });
        const truth = parseRle(image.encoding, { width: image.width, height: image.height, id: image.id });
        const { dice } = runDice(prediction.runs, truth);
        total += dice;
        this.lastValidation.push({ image, dice, runs: prediction.runs });
      } finally {
        await file.close();
      }
    }
    return total / this.validation.length;
  }

  /**
   * The saved model's validation predictions, for report.html: `validation/{id}.png` and `validation.json`. Drawn
   * only when the model improved, since a thumbnail of a whole slide reads the slide again.
   */
  private async saveValidationOverlays(epoch: number): Promise<void> {
    const listing: ValidationSample[] = [];
    for (const { image, dice, runs } of this.lastValidation) {
      const file = await openDatasetImage(this.dataset, image);
      try {
        const { png } = await slideOverlay(file, runs, REPORT_THUMBNAIL);
        await this.run.write(`validation/${image.id}.png`, png);
      } finally {
        await file.close();
      }
      listing.push({ id: image.id, dice, epoch });
    }
    await this.run.write('validation.json', `${JSON.stringify(listing, null, 2)}\n`);
  }

  /** report.html, rewritten after every epoch so a person can follow a long run in a browser. */
  private async writeReport(): Promise<void> {
    const best = this.progress.bestDice;
    const html = await runReportHtml(this.run, {
      title: `nephron train: UNet-${this.config.encoder} on ${this.dataset.folder.name}`,
      metrics: this.metrics,
      steps: this.steps,
      config: { ...this.config },
      notes: [
        best === null
          ? 'No validation slides were held out, so model.safetensors is the latest model.'
          : `Best validation Dice ${best.toFixed(4)}; model.safetensors holds that model.`,
        `${this.progress.epoch} of ${this.config.epochs} epochs, ${this.progress.globalStep} optimizer steps.`,
      ],
    });
    await this.run.write('report.html', html);
  }

  private get parameters(): Tensor[] {
    return this.optimizer.paramGroups.flatMap((g) => g.params);
  }

  /** Mixed precision: the loss scale the step used and whether its overflow skipped it (steps.jsonl). */
  private scaleRecord(): { lossScale: number; skipped: boolean } | Record<string, never> {
    return this.lastScaled ? { lossScale: this.lastScaled.scale, skipped: this.lastScaled.skipped } : {};
  }

  /** Writes steps.jsonl, then last.safetensors: a process killed between the two leaves extra steps, never fewer. */
  private async saveLast(): Promise<void> {
    await this.run.write('steps.jsonl', stepsJsonl(this.steps));
    const bytes = await serializeCheckpoint({
      model: this.model,
      optimizer: this.optimizer,
      scheduler: this.scheduler,
      progress: this.progress,
      config: this.config,
    });
    await this.run.write('last.safetensors', bytes);
  }

  async train(): Promise<TrainResult> {
    if (!this.sampler) await this.prepare();
    await this.run.write('config.json', `${JSON.stringify(this.config, null, 2)}\n`);
    const { saveSafetensors } = await import('@nephron/nn');
    while (this.progress.epoch < this.config.epochs) {
      const epoch = this.progress.epoch;
      const centres = this.epochCentres(epoch);
      const steps = this.stepsIn(epoch);
      const started = performance.now();
      for (let step = this.progress.step; step < steps; step++) {
        if (this.hooks.shouldStop?.()) {
          await this.saveLast();
          return { metrics: this.metrics, progress: this.progress, stopped: true };
        }
        const loss = await this.trainStep(epoch, step, centres);
        if (!Number.isFinite(loss)) {
          throw new NonFiniteLossError(
            `the loss became ${loss} at epoch ${epoch}, step ${step}; training stopped and ${this.run.name}/last.safetensors ` +
              'keeps the last good state. Try a lower --lr.',
          );
        }
        // PyTorch's recipe: scheduler.step(epoch + i / iters) after each optimizer step.
        this.scheduler.step(epoch + (step + 1) / steps);
        const lr = this.scheduler.getLastLr()[0];
        this.steps.push({
          epoch,
          step,
          globalStep: this.progress.globalStep,
          loss,
          lr,
          ...this.scaleRecord(),
        });
        this.progress = { ...this.progress, step: step + 1, globalStep: this.progress.globalStep + 1 };
        this.hooks.onStep?.({ epoch, step, steps, loss, lr });
        if (this.config.checkpointEvery > 0 && this.progress.globalStep % this.config.checkpointEvery === 0)
          await this.saveLast();
      }
      const dice = await this.validate();
      // From the step records, so an epoch resumed halfway (or after its last step) still counts all its steps.
      const losses = this.steps.filter((r) => r.epoch === epoch).map((r) => r.loss);
      const metrics: EpochMetrics = {
        epoch,
        trainLoss: losses.length ? losses.reduce((sum, loss) => sum + loss, 0) / losses.length : null,
        validationDice: dice,
        lr: this.scheduler.getLastLr()[0],
        steps,
        seconds: (performance.now() - started) / 1000,
      };
      this.metrics.push(metrics);
      const improved = dice !== null && (this.progress.bestDice === null || dice > this.progress.bestDice);
      this.progress = {
        epoch: epoch + 1,
        step: 0,
        globalStep: this.progress.globalStep,
        bestDice: improved ? dice : this.progress.bestDice,
      };
      // The best model by validation Dice (or the latest when there is no validation set).
      if (improved || dice === null) {
        await this.run.write(
          'model.safetensors',
          await saveSafetensors(this.model.stateDict(), { metadata: modelMetadata(this.config, dice) }),
        );
        if (improved) await this.saveValidationOverlays(epoch);
      }
      await this.run.write('metrics.jsonl', metricsJsonl(this.metrics));
      await this.run.write('metrics.csv', metricsCsv(this.metrics));
      await this.saveLast();
      await this.writeReport();
      this.hooks.onEpoch?.(metrics);
    }
    return { metrics: this.metrics, progress: this.progress, stopped: false };
  }
}

/** What `predict` needs to rebuild and run a saved model, kept in the safetensors header. */
export function modelMetadata(config: TrainConfig, dice: number | null): Record<string, string> {
  return {
    format: 'nephron-model-1',
    architecture: 'unet',
    encoder: config.encoder,
    classes: String(config.classes),
    downscale: String(config.downscale),
    tile: String(config.tile),
    threshold: String(config.threshold),
    validation_dice: dice === null ? '' : String(dice),
  };
}
