/**
 * nnU-Net's importance map: a Gaussian centred on the tile with σ = tile/8, scaled to a maximum of 1. Tile edges,
 * where the network sees least context, count least when overlapping predictions are merged. The floor keeps every
 * pixel's total weight positive.
 */
export function gaussianWeights(tile: number, sigmaScale = 1 / 8): Float32Array {
  const sigma = tile * sigmaScale;
  const centre = (tile - 1) / 2;
  const row = Float64Array.from({ length: tile }, (_, i) =>
    Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma)),
  );
  const out = new Float32Array(tile * tile);
  let max = 0;
  for (let y = 0; y < tile; y++) {
    for (let x = 0; x < tile; x++) {
      const v = row[y] * row[x];
      out[y * tile + x] = v;
      if (v > max) max = v;
    }
  }
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < out.length; i++) {
    out[i] /= max;
    if (out[i] > 0 && out[i] < min) min = out[i];
  }
  for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = min;
  return out;
}

/** Tile origins along one axis of `size` pixels: stride `tile - overlap`, the last tile flush with the end. */
export function tileOrigins(size: number, tile: number, overlap: number): number[] {
  if (overlap < 0 || overlap >= tile) throw new RangeError(`overlap ${overlap} must be in [0, tile ${tile})`);
  if (size <= tile) return [0];
  const stride = tile - overlap;
  const origins: number[] = [];
  for (let p = 0; p + tile < size; p += stride) origins.push(p);
  origins.push(size - tile);
  return origins;
}
