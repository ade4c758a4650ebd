import { connectedComponents, encodePng, Mask, type RleRuns, readRegion, type TiffFile } from '@nephron/io';

/** What a person wants to know about one predicted slide. */
export interface SlideSummary {
  id: string;
  width: number;
  height: number;
  /** 4-connected components of the predicted mask (counted on the thumbnail grid). */
  glomeruli: number;
  /** Predicted glomerulus pixels at full resolution, and their share of the slide. */
  area: number;
  areaFraction: number;
}

/** The mask of `runs` sampled onto a thumbnail grid (nearest: the full-resolution pixel under each thumbnail pixel). */
export function thumbnailMask(runs: RleRuns, thumbWidth: number, thumbHeight: number): Mask {
  const mask = new Mask(thumbWidth, thumbHeight);
  const sx = runs.width / thumbWidth;
  const sy = runs.height / thumbHeight;
  // Sampled pixels are visited in increasing column-major number, so one pass over the sorted runs suffices.
  const colOf = new Int32Array(thumbWidth).map((_, x) =>
    Math.min(runs.width - 1, Math.floor((x + 0.5) * sx)),
  );
  const rowOf = new Int32Array(thumbHeight).map((_, y) =>
    Math.min(runs.height - 1, Math.floor((y + 0.5) * sy)),
  );
  let k = 0;
  for (let x = 0; x < thumbWidth; x++) {
    const column = colOf[x];
    for (let y = 0; y < thumbHeight; y++) {
      const pixel = column * runs.height + rowOf[y];
      while (k < runs.count && runs.starts[k] + runs.lengths[k] <= pixel) k++;
      if (k < runs.count && runs.starts[k] <= pixel) mask.set(x, y, 1);
    }
  }
  return mask;
}

export function summarizePrediction(id: string, runs: RleRuns, thumb: Mask): SlideSummary {
  let area = 0;
  for (let k = 0; k < runs.count; k++) area += runs.lengths[k];
  return {
    id,
    width: runs.width,
    height: runs.height,
    glomeruli: connectedComponents(thumb).components.length,
    area,
    areaFraction: area / (runs.width * runs.height),
  };
}

/**
 * A PNG of the slide's thumbnail with predicted glomeruli outlined in green (and lightly tinted), for a person to
 * check at a glance. `rgb` is the thumbnail, `mask` the prediction on the same grid.
 */
export function overlayPng(rgb: Uint8Array, mask: Mask): Uint8Array {
  const { width, height } = mask;
  const out = new Uint8Array(rgb);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask.get(x, y)) continue;
      const p = (y * width + x) * 3;
      const edge =
        x === 0 ||
        y === 0 ||
        x === width - 1 ||
        y === height - 1 ||
        !mask.get(x - 1, y) ||
        !mask.get(x + 1, y) ||
        !mask.get(x, y - 1) ||
        !mask.get(x, y + 1);
      if (edge) out.set([0, 200, 60], p);
      else
        out.set(
          [Math.round(out[p] * 0.7), Math.round(out[p + 1] * 0.7 + 60), Math.round(out[p + 2] * 0.7)],
          p,
        );
    }
  }
  return encodePng({ data: out, width, height, channels: 3 });
}

/**
 * The whole slide shrunk to at most `side` pixels, with the prediction outlined (see `overlayPng`); also returns the
 * thumbnail's mask, from which a summary counts glomeruli.
 */
export async function slideOverlay(
  file: TiffFile,
  runs: RleRuns,
  side: number,
): Promise<{ png: Uint8Array; mask: Mask }> {
  const level0 = file.levels[0];
  const scale = Math.min(1, side / Math.max(level0.width, level0.height));
  const thumb = await readRegion(file, {
    x: 0,
    y: 0,
    width: level0.width,
    height: level0.height,
    scale,
    fill: 255,
  });
  const mask = thumbnailMask(runs, thumb.width, thumb.height);
  return { png: overlayPng(thumb.data, mask), mask };
}
