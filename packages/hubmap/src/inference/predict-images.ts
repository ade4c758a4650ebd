import { parseRle, type RleRuns, rleText, type TiffFile } from '@nephron/io';
import type { RunFolder } from '../training/run-folder.js';
import { type SlideSummary, slideOverlay, summarizePrediction } from './overlay.js';
import { type PredictOptions, predictSlide, type SegmentationModel } from './predict-slide.js';
import { tiffSlideSource } from './slide-source.js';

/** A slide to predict: its id and how to open it. */
export interface SlideInput {
  id: string;
  open(): Promise<TiffFile>;
}

export interface PredictImagesOptions extends PredictOptions {
  /** Largest side of the overlay thumbnails. */
  thumbnail?: number;
  onSlide?(summary: SlideSummary, reused: boolean): void;
}

/** Deterministic shard `index` of `count`: every count-th slide in the given order. */
export function shardOf<T>(items: readonly T[], index: number, count: number): T[] {
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count)) {
    throw new RangeError(`shard must be i/n with 0 <= i < n, got ${index}/${count}`);
  }
  return items.filter((_, i) => i % count === index);
}

/**
 * Predicts slides one by one. Each finished slide is written at once (`slides/{id}.rle`, `{id}.json` summary,
 * `{id}.png` overlay), atomically, so an interrupted run restarted on the same output skips what is done and ends
 * with the same results.
 */
export async function predictImages(
  slides: readonly SlideInput[],
  models: readonly SegmentationModel[],
  out: RunFolder,
  options: PredictImagesOptions,
): Promise<Map<string, { runs: RleRuns; summary: SlideSummary }>> {
  const results = new Map<string, { runs: RleRuns; summary: SlideSummary }>();
  for (const slide of slides) {
    const done = await out.read(`slides/${slide.id}.rle`);
    const summaryBytes = await out.read(`slides/${slide.id}.json`);
    if (done && summaryBytes) {
      const summary = JSON.parse(new TextDecoder().decode(summaryBytes)) as SlideSummary;
      const runs = parseRle(new TextDecoder().decode(done), {
        width: summary.width,
        height: summary.height,
        id: slide.id,
      });
      results.set(slide.id, { runs, summary });
      options.onSlide?.(summary, true);
      continue;
    }
    const file = await slide.open();
    try {
      const prediction = await predictSlide(tiffSlideSource(slide.id, file), models, options);
      const { png, mask } = await slideOverlay(file, prediction.runs, options.thumbnail ?? 1024);
      const summary = summarizePrediction(slide.id, prediction.runs, mask);
      await out.write(`slides/${slide.id}.png`, png);
      await out.write(`slides/${slide.id}.json`, `${JSON.stringify(summary, null, 2)}\n`);
      // The RLE last: its presence marks the slide as finished.
      await out.write(`slides/${slide.id}.rle`, [...rleText(prediction.runs)].join(''));
      results.set(slide.id, { runs: prediction.runs, summary });
      options.onSlide?.(summary, false);
    } finally {
      await file.close();
    }
  }
  return results;
}

/** `id,predicted` rows in the given order (a submission in `sample_submission.csv` order). */
export function submissionCsv(order: readonly string[], results: Map<string, { runs: RleRuns }>): string {
  const lines = ['id,predicted'];
  for (const id of order) {
    const r = results.get(id);
    if (!r) throw new Error(`no prediction for image ${id}`);
    lines.push(`${id},${[...rleText(r.runs)].join('')}`);
  }
  return `${lines.join('\n')}\n`;
}
