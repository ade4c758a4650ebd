import type { TileAugment } from './params.js';

function hash(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

function uniform01(v: number): number {
  return ((hash(v) >>> 8) + 0.5) / 16777216;
}

/**
 * The augmentation kernel's arithmetic in float64 TypeScript, one tile at a time: the CPU reference its tests
 * compare against. Returns the normalised CHW image and the HW mask.
 */
export function augmentTileReference(
  crop: Uint32Array,
  cropSide: number,
  tile: number,
  grid: number,
  p: TileAugment,
  mean: readonly number[],
  std: readonly number[],
): { image: Float64Array; mask: Int32Array } {
  const s = cropSide;
  const texel = (x: number, y: number) =>
    crop[Math.min(Math.max(y, 0), s - 1) * s + Math.min(Math.max(x, 0), s - 1)];
  const channel = (v: number, c: number) => (v >>> (8 * c)) & 255;
  const bilinear = (x: number, y: number): number[] => {
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    return [0, 1, 2].map((c) => {
      const top = channel(texel(x0, y0), c) * (1 - fx) + channel(texel(x0 + 1, y0), c) * fx;
      const bottom = channel(texel(x0, y0 + 1), c) * (1 - fx) + channel(texel(x0 + 1, y0 + 1), c) * fx;
      return top * (1 - fy) + bottom * fy;
    });
  };
  const image = new Float64Array(3 * tile * tile);
  const mask = new Int32Array(tile * tile);
  const [a, b, c, d] = p.matrix;
  for (let oy = 0; oy < tile; oy++) {
    for (let ox = 0; ox < tile; ox++) {
      const pix = oy * tile + ox;
      const gx = ((ox + 0.5) / tile) * (grid - 1);
      const gy = ((oy + 0.5) / tile) * (grid - 1);
      const kx = Math.min(Math.floor(gx), grid - 2);
      const ky = Math.min(Math.floor(gy), grid - 2);
      const fx = gx - kx;
      const fy = gy - ky;
      const knot = (x: number, y: number, k: number) => p.displacement[2 * (y * grid + x) + k];
      const lerp2 = (k: number) =>
        (knot(kx, ky, k) * (1 - fx) + knot(kx + 1, ky, k) * fx) * (1 - fy) +
        (knot(kx, ky + 1, k) * (1 - fx) + knot(kx + 1, ky + 1, k) * fx) * fy;
      const u = ox + 0.5 + lerp2(0) - tile / 2;
      const v = oy + 0.5 + lerp2(1) - tile / 2;
      const sx = a * u + b * v + s / 2 - 0.5;
      const sy = c * u + d * v + s / 2 - 0.5;
      mask[pix] = texel(Math.floor(sx + 0.5), Math.floor(sy + 0.5)) >>> 24;
      let rgb: number[];
      if (p.blurSigma > 0) {
        rgb = [0, 0, 0];
        let weight = 0;
        for (let ty = -1; ty <= 1; ty++) {
          for (let tx = -1; tx <= 1; tx++) {
            const w = Math.exp(-0.5 * (tx * tx + ty * ty));
            const sample = bilinear(sx + tx * p.blurSigma, sy + ty * p.blurSigma);
            for (let k = 0; k < 3; k++) rgb[k] += w * sample[k];
            weight += w;
          }
        }
        rgb = rgb.map((v2) => v2 / weight);
      } else {
        rgb = bilinear(sx, sy);
      }
      let col = rgb.map(
        (v2) => Math.min(Math.max((v2 / 255 - 0.5) * p.contrast + 0.5 + p.brightness, 0), 1) ** p.gamma,
      );
      const yy = 0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2];
      const ii = 0.596 * col[0] - 0.274 * col[1] - 0.322 * col[2];
      const qq = 0.211 * col[0] - 0.523 * col[1] + 0.312 * col[2];
      const i2 = (ii * p.hueCos - qq * p.hueSin) * p.saturation;
      const q2 = (ii * p.hueSin + qq * p.hueCos) * p.saturation;
      col = [yy + 0.956 * i2 + 0.621 * q2, yy - 0.272 * i2 - 0.647 * q2, yy - 1.106 * i2 + 1.703 * q2];
      for (let ch = 0; ch < 3; ch++) {
        let value = col[ch];
        if (p.noise > 0) {
          const key = hash((p.noiseSeed ^ hash(pix * 3 + ch)) >>> 0);
          value +=
            p.noise *
            Math.sqrt(-2 * Math.log(uniform01(key))) *
            Math.cos(2 * Math.PI * uniform01((key ^ 0x9e3779b9) >>> 0));
        }
        value = Math.min(Math.max(value, 0), 1);
        image[ch * tile * tile + pix] = (value - mean[ch]) / std[ch];
      }
    }
  }
  return { image, mask };
}
