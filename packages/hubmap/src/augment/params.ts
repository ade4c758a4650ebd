import type { Random } from '../random.js';

/** How strongly to augment; each field is the range or probability a tile's parameters are drawn from. */
export interface AugmentConfig {
  flip: boolean;
  rotate90: boolean;
  /** Free rotation in degrees, drawn uniformly from ±rotate. */
  rotate: number;
  /** Zoom drawn log-uniformly from [1/scale, scale]. */
  scale: number;
  /** Elastic displacement: amplitude in output pixels of a smooth random field on a grid of `elasticGrid`² knots. */
  elastic: number;
  elasticGrid: number;
  brightness: number;
  contrast: number;
  gamma: number;
  /** Hue rotation in turns (±), as a rotation of the YIQ chroma plane. */
  hue: number;
  saturation: number;
  /** Probability of a Gaussian blur, and its largest sigma in pixels. */
  blurProbability: number;
  blurSigma: number;
  /** Largest standard deviation of additive Gaussian noise, in 0..1 intensity units. */
  noise: number;
}

export const DEFAULT_AUGMENT: AugmentConfig = {
  flip: true,
  rotate90: true,
  rotate: 30,
  scale: 1.15,
  elastic: 6,
  elasticGrid: 4,
  brightness: 0.1,
  contrast: 0.15,
  gamma: 0.15,
  hue: 0.04,
  saturation: 0.2,
  blurProbability: 0.2,
  blurSigma: 1.2,
  noise: 0.03,
};

/** No change at all: the identity transform (used for validation tiles and tests). */
export const NO_AUGMENT: AugmentConfig = {
  flip: false,
  rotate90: false,
  rotate: 0,
  scale: 1,
  elastic: 0,
  elasticGrid: 4,
  brightness: 0,
  contrast: 0,
  gamma: 0,
  hue: 0,
  saturation: 0,
  blurProbability: 0,
  blurSigma: 0,
  noise: 0,
};

/** One tile's drawn parameters. Layout matches the kernel's per-sample parameter block. */
export interface TileAugment {
  /** Output pixel offset from the tile centre → source offset from the crop centre: [a, b, c, d] (x' = a x + b y, y' = c x + d y). */
  matrix: [number, number, number, number];
  brightness: number;
  contrast: number;
  gamma: number;
  hueCos: number;
  hueSin: number;
  saturation: number;
  blurSigma: number;
  noise: number;
  noiseSeed: number;
  /** elasticGrid² (dx, dy) knot displacements in output pixels. */
  displacement: Float32Array;
}

/** Words per sample in the parameter buffer: 16 scalars then the displacement grid. */
export const PARAM_HEADER = 16;

export function drawAugment(config: AugmentConfig, random: Random): TileAugment {
  let a = 1;
  let b = 0;
  let c = 0;
  let d = 1;
  const compose = (m: [number, number, number, number]) => {
    [a, b, c, d] = [m[0] * a + m[1] * c, m[0] * b + m[1] * d, m[2] * a + m[3] * c, m[2] * b + m[3] * d];
  };
  if (config.flip && random.next() < 0.5) compose([-1, 0, 0, 1]);
  if (config.rotate90) {
    const k = Math.floor(random.next() * 4);
    for (let i = 0; i < k; i++) compose([0, -1, 1, 0]);
  }
  if (config.rotate > 0) {
    const t = (random.uniform(-config.rotate, config.rotate) * Math.PI) / 180;
    compose([Math.cos(t), -Math.sin(t), Math.sin(t), Math.cos(t)]);
  }
  if (config.scale > 1) {
    const s = Math.exp(random.uniform(-Math.log(config.scale), Math.log(config.scale)));
    compose([s, 0, 0, s]);
  }
  const g = config.elasticGrid;
  const displacement = new Float32Array(g * g * 2);
  if (config.elastic > 0)
    for (let i = 0; i < displacement.length; i++) displacement[i] = random.normal() * config.elastic;
  const hue = random.uniform(-config.hue, config.hue) * 2 * Math.PI;
  const blur =
    random.next() < config.blurProbability ? random.uniform(0.3, Math.max(0.3, config.blurSigma)) : 0;
  return {
    matrix: [a, b, c, d],
    brightness: random.uniform(-config.brightness, config.brightness),
    contrast: 1 + random.uniform(-config.contrast, config.contrast),
    gamma: Math.exp(random.uniform(-config.gamma, config.gamma)),
    hueCos: Math.cos(hue),
    hueSin: Math.sin(hue),
    saturation: 1 + random.uniform(-config.saturation, config.saturation),
    blurSigma: blur,
    noise: random.uniform(0, config.noise),
    noiseSeed: Math.floor(random.next() * 2 ** 31),
    displacement,
  };
}

/** Source crop side needed so that any rotation, zoom and elastic shift of a `tile` stays inside it. */
export function cropSize(tile: number, config: AugmentConfig): number {
  const reach = tile * Math.SQRT2 * Math.max(1, config.scale) + 6 * config.elastic + 4 * config.blurSigma + 4;
  return Math.ceil(reach / 2) * 2;
}

/** Packs one sample's parameters as f32 words for the kernel. */
export function packAugment(p: TileAugment, into: Float32Array, at: number): void {
  into.set(
    [
      ...p.matrix,
      p.brightness,
      p.contrast,
      p.gamma,
      p.hueCos,
      p.hueSin,
      p.saturation,
      p.blurSigma,
      p.noise,
      0,
      0,
      0,
      0,
    ],
    at,
  );
  new Uint32Array(into.buffer, into.byteOffset, into.length)[at + 12] = p.noiseSeed >>> 0;
  into.set(p.displacement, at + PARAM_HEADER);
}
