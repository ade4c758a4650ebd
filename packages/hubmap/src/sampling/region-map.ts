/** Region labels of the sampling map. */
export const REGION = { other: 0, cortex: 1, medulla: 2, glomerulus: 3 } as const;

/** Share of random tiles drawn from each region, as in deepflash2's HuBMAP solution. */
export const REGION_MASS = { cortex: 0.7, medulla: 0.2, other: 0.1 } as const;

/** A coarse label map of one image: `labels[y * width + x]`, each map pixel covering `scale` image pixels a side. */
export interface RegionMap {
  width: number;
  height: number;
  /** Image pixels per map pixel (the map is held at ~512 rows whatever the image size). */
  scale: number;
  labels: Uint8Array;
}

/** Map size for an image: about `rows` rows, keeping the aspect ratio. */
export function regionMapSize(
  imageWidth: number,
  imageHeight: number,
  rows = 512,
): { width: number; height: number; scale: number } {
  const scale = Math.max(1, imageHeight / rows);
  return {
    width: Math.max(1, Math.round(imageWidth / scale)),
    height: Math.max(1, Math.round(imageHeight / scale)),
    scale,
  };
}

/**
 * Tissue found by saturation, for images without an anatomical annotation: stained tissue is coloured, glass and
 * background are grey or white. `rgb` is a thumbnail of `width`×`height` pixels.
 */
export function tissueBySaturation(
  rgb: Uint8Array,
  width: number,
  height: number,
  threshold = 0.08,
): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const r = rgb[i * 3];
    const g = rgb[i * 3 + 1];
    const b = rgb[i * 3 + 2];
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const saturation = max === 0 ? 0 : (max - min) / max;
    // Very dark pixels (scanner borders, folds) are not tissue either.
    out[i] = saturation > threshold && max > 40 ? 1 : 0;
  }
  return out;
}

/**
 * The cumulative distribution of random-tile centres over the map: each region's mass spread evenly over its pixels,
 * glomerulus pixels excluded (they get their own tiles), and the mass of absent regions left out (renormalised).
 */
export function regionCdf(map: RegionMap): Float64Array {
  const counts = [0, 0, 0, 0];
  for (const label of map.labels) counts[label]++;
  const mass = [REGION_MASS.other, REGION_MASS.cortex, REGION_MASS.medulla, 0];
  const perPixel = mass.map((m, k) => (counts[k] > 0 ? m / counts[k] : 0));
  const cdf = new Float64Array(map.labels.length);
  let total = 0;
  for (let i = 0; i < map.labels.length; i++) {
    total += perPixel[map.labels[i]];
    cdf[i] = total;
  }
  if (total === 0) {
    // Nothing but glomeruli (or an empty map): fall back to uniform.
    for (let i = 0; i < cdf.length; i++) cdf[i] = (i + 1) / cdf.length;
    return cdf;
  }
  for (let i = 0; i < cdf.length; i++) cdf[i] /= total;
  return cdf;
}

/** Index i with cdf[i-1] <= u < cdf[i] (binary search). */
export function searchCdf(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
