import { Mask, RleEncoder, type RleRuns } from '@nephron/io';
import { fuseForInference, type Module } from '@nephron/nn';
import { keep, noGrad, type Tensor, tensor, tidy } from '@nephron/tensor';
import { IMAGENET_MEAN, IMAGENET_STD } from '../augment/augment.js';
import { tissueBySaturation } from '../sampling/region-map.js';
import { gaussianWeights, tileOrigins } from './gaussian.js';
import { atPrecision, type InferencePrecision } from './precision.js';
import type { SlideSource } from './slide-source.js';

/**
 * A segmentation network: N×3×T×T normalised input → N×2×T×T logits (background, glomerulus). A module (a UNet)
 * is run in eval mode with its batch norms folded into its convolutions for the prediction (fuseForInference).
 */
export type SegmentationModel = ((input: Tensor) => Tensor) | (Module & { forward(input: Tensor): Tensor });

type Forward = (input: Tensor) => Tensor;

export interface PredictOptions {
  /** Downscale factor the models were trained at (full-resolution pixels per model pixel). */
  downscale: number;
  /** Model input side in pixels. */
  tile: number;
  /** Overlap between neighbouring tiles, in model pixels (default tile/4). */
  overlap?: number;
  batchSize?: number;
  /** Probability above which a pixel is glomerulus. */
  threshold?: number;
  /** Average over horizontal and vertical flips too. */
  tta?: boolean;
  /** Tiles with less tissue than this fraction are not run through the model (predicted empty). */
  minTissue?: number;
  /** 'f16': half-precision activations and weights (cast once), float32 accumulation; needs shader-f16. */
  precision?: InferencePrecision;
  onProgress?: (done: number, total: number) => void;
}

export interface SlidePrediction {
  id: string;
  runs: RleRuns;
  tiles: number;
  skippedTiles: number;
}

/** Glomerulus probability of each pixel of each tile: softmax over two classes is the sigmoid of the logit gap. */
function probabilities(models: readonly Forward[], input: Tensor, tta: boolean): Tensor {
  const flips: number[][] = tta ? [[], [3], [2]] : [[]];
  let total: Tensor | null = null;
  for (const model of models) {
    for (const dims of flips) {
      const x = dims.length ? input.flip(dims) : input;
      const logits = model(x);
      const gap = logits
        .narrow(1, 1, 1)
        .sub(logits.narrow(1, 0, 1))
        .sigmoid();
      const p = dims.length ? gap.flip(dims) : gap;
      total = total ? total.add(p) : p;
    }
  }
  return total!.div(models.length * flips.length);
}

/**
 * Predicts one slide by sliding windows at the training scale, merging overlaps with Gaussian weights, and streams the
 * thresholded mask, upsampled to full resolution, into a run-length encoder band by band. Memory holds one band of
 * tiles, never a full-resolution array.
 */
export async function predictSlide(
  source: SlideSource,
  models: readonly SegmentationModel[],
  options: PredictOptions,
): Promise<SlidePrediction> {
  const fused = models.map((m) => (typeof m === 'function' ? null : fuseForInference(m)));
  const run = atPrecision(
    models.map((m, k) => fused[k]?.forward ?? (m as Forward)),
    options.precision,
  );
  try {
    return await predictWith(source, run.models, options);
  } finally {
    run.dispose();
    for (const f of fused) f?.dispose();
  }
}

async function predictWith(
  source: SlideSource,
  models: readonly Forward[],
  options: PredictOptions,
): Promise<SlidePrediction> {
  const { downscale: s, tile } = options;
  const overlap = options.overlap ?? Math.floor(tile / 4);
  const batchSize = options.batchSize ?? 4;
  const threshold = options.threshold ?? 0.5;
  const minTissue = options.minTissue ?? 0.01;
  const w = Math.ceil(source.width / s);
  const h = Math.ceil(source.height / s);
  const xs = tileOrigins(w, tile, overlap);
  const ys = tileOrigins(h, tile, overlap);
  const weights = gaussianWeights(tile);
  const encoder = new RleEncoder(source.width, source.height);
  const rows = new Map<number, { acc: Float32Array; wsum: Float32Array }>();
  const rowOf = (r: number) => {
    let row = rows.get(r);
    if (!row) {
      row = { acc: new Float32Array(w), wsum: new Float32Array(w) };
      rows.set(r, row);
    }
    return row;
  };
  let fullRowsDone = 0;
  let finalisedRows = 0;
  const runBuffer = new Int32Array(w + 1);
  // Rows < `upTo` will receive no more tiles: threshold, upsample and encode them.
  const finalise = (upTo: number) => {
    for (; finalisedRows < Math.min(upTo, h); finalisedRows++) {
      const r = finalisedRows;
      const row = rows.get(r);
      const y0 = fullRowsDone;
      const y1 = Math.min(source.height, Math.ceil((r + 1) * s));
      if (y1 <= y0) continue;
      const band = new Mask(source.width, y1 - y0);
      if (row) {
        const bits = new Mask(w, 1);
        for (let x = 0; x < w; x++)
          if (row.wsum[x] > 0 && row.acc[x] / row.wsum[x] >= threshold) bits.set(x, 0, 1);
        const n = bits.rowRuns(0, runBuffer);
        for (let k = 0; k < n; k++) {
          const x0 = Math.ceil(runBuffer[2 * k] * s);
          const x1 = Math.min(source.width, Math.ceil(runBuffer[2 * k + 1] * s));
          for (let y = 0; y < y1 - y0; y++) band.fillRowSpan(y, x0, x1);
        }
        rows.delete(r);
      }
      encoder.pushRows(band);
      fullRowsDone = y1;
    }
  };

  const total = xs.length * ys.length;
  let done = 0;
  let skipped = 0;
  const mean = IMAGENET_MEAN;
  const std = IMAGENET_STD;
  for (let yi = 0; yi < ys.length; yi++) {
    const y = ys[yi];
    for (let start = 0; start < xs.length; start += batchSize) {
      const batchXs = xs.slice(start, start + batchSize);
      const pixels = await Promise.all(batchXs.map((x) => source.readScaled(x, y, tile, s)));
      const keepTile = pixels.map((rgb) => {
        const tissue = tissueBySaturation(rgb, tile, tile);
        let count = 0;
        for (const t of tissue) count += t;
        return count / tissue.length >= minTissue;
      });
      const chosen = batchXs.map((_, k) => k).filter((k) => keepTile[k]);
      let probs: Float32Array | null = null;
      if (chosen.length) {
        const input = new Float32Array(chosen.length * 3 * tile * tile);
        chosen.forEach((k, b) => {
          const rgb = pixels[k];
          for (let c = 0; c < 3; c++) {
            const base = (b * 3 + c) * tile * tile;
            for (let i = 0; i < tile * tile; i++) input[base + i] = (rgb[i * 3 + c] / 255 - mean[c]) / std[c];
          }
        });
        const out = noGrad(() =>
          tidy(() =>
            keep(probabilities(models, tensor(input, [chosen.length, 3, tile, tile]), options.tta ?? false)),
          ),
        );
        probs = (await out.toArray()) as Float32Array;
        out.dispose();
      }
      batchXs.forEach((x, k) => {
        const b = chosen.indexOf(k);
        if (b < 0) skipped++;
        for (let ty = 0; ty < tile && y + ty < h; ty++) {
          const row = rowOf(y + ty);
          for (let tx = 0; tx < tile && x + tx < w; tx++) {
            const wgt = weights[ty * tile + tx];
            row.wsum[x + tx] += wgt;
            if (b >= 0 && probs) row.acc[x + tx] += wgt * probs[b * tile * tile + ty * tile + tx];
          }
        }
      });
      done += batchXs.length;
      options.onProgress?.(done, total);
    }
    finalise(yi + 1 < ys.length ? ys[yi + 1] : h);
  }
  finalise(h);
  return { id: source.id, runs: encoder.finish(), tiles: total, skippedTiles: skipped };
}
