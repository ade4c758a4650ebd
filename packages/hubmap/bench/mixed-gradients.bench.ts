// How far mixed-precision gradients sit from float32's, against how far float32's own move when only the input
// is rounded to half: `npx tsx --conditions @nephron/source packages/hubmap/bench/mixed-gradients.bench.ts
// DEMO_OUT [model.safetensors]` after `nephron demo --out DEMO_OUT`. One demo batch (seed 1, epoch 0, step 0),
// the demo's UNet-B0 (fresh, or the given weights) in training mode, the same drop-path draws in every pass.
// Mixed gradients are read at several loss scales: if small gradients flushed to zero in half, the low scales
// would sit further from float32 than the high ones.
import { readFile } from 'node:fs/promises';
import { BatchNorm2d, type Module } from '@nephron/nn';
import { autocast, cast, init, keep, manualSeed, numel, type Tensor, tidy } from '@nephron/tensor';
import {
  augmentBatch,
  createSegmentationModel,
  cropSize,
  DEMO_TRAIN_CONFIG,
  drawAugment,
  extractCrop,
  loadDataset,
  loadSegmentationModel,
  loadTrainingImage,
  mixSeed,
  nodeDataFolder,
  Random,
  segmentationLoss,
  splitTrainValidation,
  TileSampler,
} from '../src/index.js';

const [demoOut, weights] = process.argv.slice(2);
if (!demoOut) throw new Error('usage: mixed-gradients.bench.ts DEMO_OUT [model.safetensors]');
await init();
const config = { ...DEMO_TRAIN_CONFIG, seed: 1 };
const dataset = await loadDataset(nodeDataFolder(`${demoOut}/data`));
const images = await Promise.all(
  splitTrainValidation(dataset, config).train.map((im) => loadTrainingImage(dataset, im, config.downscale)),
);
manualSeed(1);
const model = weights
  ? loadSegmentationModel(await readFile(weights), weights).model
  : createSegmentationModel(config.encoder, config.classes);
for (const m of model.modules()) if (m instanceof BatchNorm2d) m.momentum = config.bnMomentum ?? m.momentum;

/** The trainer's first batch: tile centres, crops and augmentation drawn as `Trainer.trainStep` draws them. */
function firstBatch(): { image: Tensor; mask: Tensor } {
  const sampler = new TileSampler(
    images.map(({ id, width, height, glomeruli, regions }) => ({ id, width, height, glomeruli, regions })),
    config.randomTilesPerImage,
  );
  const centres = sampler.epoch(new Random(mixSeed(config.seed, 0)));
  const side = cropSize(config.tile, config.augment);
  const crops = new Uint32Array(config.batchSize * side * side);
  const random = new Random(mixSeed(config.seed, 0, 0, 1));
  const params = centres.slice(0, config.batchSize).map((centre, k) => {
    const image = images.find((im) => im.id === centre.image)!;
    extractCrop(image, centre.x, centre.y, side, crops, k * side * side);
    return drawAugment(config.augment, random);
  });
  return augmentBatch(crops, side, config.tile, params, config.augment);
}

const named = [...(model as Module).namedParameters()];
type Pass = { kind: 'f32' } | { kind: 'f32, input rounded to half' } | { kind: 'mixed'; scale: number };

/** Every parameter's gradient (unscaled) after one forward and backward pass. */
async function gradients(pass: Pass): Promise<Float32Array[]> {
  model.train();
  manualSeed(1000);
  tidy(() => {
    const { image, mask } = firstBatch();
    if (pass.kind === 'mixed') {
      const logits = cast(
        autocast(() => model.forward(image)),
        'float32',
      );
      segmentationLoss(logits, mask).mul(pass.scale).backward();
    } else {
      const input = pass.kind === 'f32' ? image : cast(cast(image, 'float16'), 'float32');
      segmentationLoss(model.forward(input), mask).backward();
    }
    return keep(mask);
  }).dispose();
  const scale = pass.kind === 'mixed' ? pass.scale : 1;
  const out: Float32Array[] = [];
  for (const [, p] of named) {
    const g = p.grad ? ((await p.grad.toArray()) as Float32Array) : new Float32Array(numel(p.shape));
    out.push(g.map((v) => v / scale));
    p.grad?.dispose();
    p.grad = null;
  }
  return out;
}

function compare(label: string, want: Float32Array[], got: Float32Array[]): void {
  let dot = 0;
  let ww = 0;
  let gg = 0;
  const relative: number[] = [];
  let infinite = 0;
  for (let i = 0; i < want.length; i++) {
    let d = 0;
    let n = 0;
    for (let j = 0; j < want[i].length; j++) {
      if (!Number.isFinite(got[i][j])) infinite++;
      dot += want[i][j] * got[i][j];
      ww += want[i][j] ** 2;
      gg += got[i][j] ** 2;
      d += (got[i][j] - want[i][j]) ** 2;
      n += want[i][j] ** 2;
    }
    // Parameters whose float32 gradient is ~0 (a batch norm's bias right before another batch norm) say nothing.
    if (n > 1e-12 * want[i].length) relative.push(Math.sqrt(d / n));
  }
  relative.sort((a, b) => a - b);
  const at = (q: number) => relative[Math.floor(q * (relative.length - 1))].toFixed(4);
  console.log(
    `${label.padEnd(30)} cosine ${(dot / Math.sqrt(ww * gg)).toFixed(4)}  norm ratio ${Math.sqrt(gg / ww).toFixed(4)}  ` +
      `per-parameter relative error median ${at(0.5)} p90 ${at(0.9)}${infinite ? `  ${infinite} non-finite` : ''}`,
  );
}

const reference = await gradients({ kind: 'f32' });
compare('f32 again', reference, await gradients({ kind: 'f32' }));
compare('f32, input rounded to half', reference, await gradients({ kind: 'f32, input rounded to half' }));
for (const scale of [2 ** 8, 2 ** 12, 2 ** 16])
  compare(`mixed, loss scale 2^${Math.log2(scale)}`, reference, await gradients({ kind: 'mixed', scale }));
process.exit(0);
