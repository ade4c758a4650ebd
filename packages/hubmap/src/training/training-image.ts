import {
  connectedComponents,
  Mask,
  parseQupathGeoJson,
  rasterizeAnnotations,
  readRegion,
  rleDecodeRowBands,
} from '@nephron/io';
import type { RasterImage } from '../augment/crop.js';
import { readSourceText } from '../dataset/data-folder.js';
import {
  type Dataset,
  type DatasetImage,
  openDatasetImage,
  type TrainImage,
} from '../dataset/load-dataset.js';
import { REGION, type RegionMap, regionMapSize, tissueBySaturation } from '../sampling/region-map.js';
import type { Box } from '../sampling/sampler.js';

/** A slide held in memory at the training scale, with what sampling needs. */
export interface TrainingImage extends RasterImage {
  id: string;
  /** Full-resolution pixels per pixel of this raster. */
  downscale: number;
  fullWidth: number;
  fullHeight: number;
  /** Bounding boxes of the glomeruli (4-connected components of the mask), in raster pixels. */
  glomeruli: Box[];
  /** Cortex/medulla/other/glomerulus map for random tiles, in raster pixels × `regions.scale`. */
  regions: RegionMap;
}

/** Scaled size of a full-resolution image. */
export function scaledSize(
  width: number,
  height: number,
  downscale: number,
): { width: number; height: number } {
  return {
    width: Math.max(1, Math.round(width / downscale)),
    height: Math.max(1, Math.round(height / downscale)),
  };
}

/**
 * Decodes a Kaggle encoding straight to a downscaled mask, band by band: each scaled pixel takes the full-resolution
 * pixel at its centre, so a whole-slide mask never exists at full resolution.
 */
export function decodeScaledMask(
  encoding: string,
  full: { width: number; height: number },
  scaled: { width: number; height: number },
  id: string,
): Mask {
  const out = new Mask(scaled.width, scaled.height);
  const fx = full.width / scaled.width;
  const fy = full.height / scaled.height;
  const columns = Int32Array.from({ length: scaled.width }, (_, x) =>
    Math.min(full.width - 1, Math.floor((x + 0.5) * fx)),
  );
  let sy = 0;
  for (const band of rleDecodeRowBands(encoding, full.width, full.height, 256, id)) {
    for (; sy < scaled.height; sy++) {
      const y = Math.min(full.height - 1, Math.floor((sy + 0.5) * fy));
      if (y >= band.y0 + band.mask.height) break;
      for (let x = 0; x < scaled.width; x++) if (band.mask.get(columns[x], y - band.y0)) out.set(x, sy, 1);
    }
  }
  return out;
}

/** Reads a slide at `downscale` into memory as RGB (area-averaged from the best pyramid level). */
export async function readScaledImage(
  dataset: Dataset,
  image: DatasetImage,
  downscale: number,
): Promise<RasterImage> {
  const file = await openDatasetImage(dataset, image);
  try {
    const region = await readRegion(file, {
      x: 0,
      y: 0,
      width: image.width,
      height: image.height,
      scale: 1 / downscale,
      fill: 255,
    });
    return { width: region.width, height: region.height, rgb: region.data };
  } finally {
    await file.close();
  }
}

/**
 * The region map of a slide: cortex and medulla from its anatomical annotation when there is one, else tissue found
 * by saturation counts as cortex; glomerulus pixels get their own label (they are sampled separately).
 */
export async function buildRegionMap(
  dataset: Dataset,
  image: DatasetImage,
  raster: RasterImage & { mask?: Uint8Array },
  downscale: number,
): Promise<RegionMap> {
  const size = regionMapSize(raster.width, raster.height);
  const labels = new Uint8Array(size.width * size.height);
  const sample = (x: number, y: number) => {
    const rx = Math.min(raster.width - 1, Math.floor((x + 0.5) * size.scale));
    const ry = Math.min(raster.height - 1, Math.floor((y + 0.5) * size.scale));
    return ry * raster.width + rx;
  };
  if (image.anatomy) {
    const text = await readSourceText(await dataset.folder.open(image.anatomy));
    const annotations = parseQupathGeoJson(text, image.anatomy);
    // Map pixel = scale raster pixels = scale × downscale full-resolution pixels.
    const rasterOptions = { scale: 1 / (size.scale * downscale) };
    const cortex = rasterizeAnnotations(annotations, size.width, size.height, {
      ...rasterOptions,
      classification: 'cortex',
    });
    const medulla = rasterizeAnnotations(annotations, size.width, size.height, {
      ...rasterOptions,
      classification: 'medulla',
    });
    for (let y = 0; y < size.height; y++) {
      for (let x = 0; x < size.width; x++) {
        const i = y * size.width + x;
        labels[i] = medulla.get(x, y) ? REGION.medulla : cortex.get(x, y) ? REGION.cortex : REGION.other;
      }
    }
  } else {
    const thumb = new Uint8Array(size.width * size.height * 3);
    for (let y = 0; y < size.height; y++) {
      for (let x = 0; x < size.width; x++) {
        const p = sample(x, y);
        thumb.set(raster.rgb.subarray(p * 3, p * 3 + 3), (y * size.width + x) * 3);
      }
    }
    const tissue = tissueBySaturation(thumb, size.width, size.height);
    for (let i = 0; i < labels.length; i++) labels[i] = tissue[i] ? REGION.cortex : REGION.other;
  }
  if (raster.mask) {
    for (let y = 0; y < size.height; y++) {
      for (let x = 0; x < size.width; x++)
        if (raster.mask[sample(x, y)]) labels[y * size.width + x] = REGION.glomerulus;
    }
  }
  return { ...size, labels };
}

/** Loads a training slide at the training scale: pixels, mask, glomerulus boxes and region map. */
export async function loadTrainingImage(
  dataset: Dataset,
  image: TrainImage,
  downscale: number,
): Promise<TrainingImage> {
  const raster = await readScaledImage(dataset, image, downscale);
  const mask = decodeScaledMask(image.encoding, image, raster, image.id);
  const components = connectedComponents(mask);
  const glomeruli: Box[] = components.components.map((c) => ({
    x0: c.x,
    y0: c.y,
    x1: c.x + c.width,
    y1: c.y + c.height,
  }));
  const maskBytes = mask.data;
  const withMask = { ...raster, mask: maskBytes };
  return {
    ...withMask,
    id: image.id,
    downscale,
    fullWidth: image.width,
    fullHeight: image.height,
    glomeruli,
    regions: await buildRegionMap(dataset, image, withMask, downscale),
  };
}
