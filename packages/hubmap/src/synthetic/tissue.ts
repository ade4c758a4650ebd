import { Random, ValueNoise } from '../random.js';

/** One glomerulus as drawn: its centre, radii and outline polygon (image pixels). */
export interface SyntheticGlomerulus {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  angle: number;
  /** Outline (closed ring, first point repeated last) of the tuft plus Bowman's space, as annotators draw it. */
  polygon: [number, number][];
}

export interface SyntheticSlide {
  width: number;
  height: number;
  /** Interleaved RGB, row-major. */
  rgb: Uint8Array;
  /** 1 inside a glomerulus, row-major. */
  mask: Uint8Array;
  glomeruli: SyntheticGlomerulus[];
  /** Outline of the cortex (closed ring); the cortex is the area inside it and outside the medulla. */
  cortex: [number, number][];
  /** Outline of the medulla (closed ring): the pale core of the section, where there are no glomeruli. */
  medulla: [number, number][];
}

export interface SlideOptions {
  width: number;
  height: number;
  seed: number;
  /** Mean glomerulus radius in pixels (real ones are ~100 µm, i.e. ~200 px at 0.5 µm/px). */
  glomerulusRadius?: number;
  glomerulusCount?: number;
}

type Rgb = [number, number, number];

// PAS staining: magenta-pink matrix and membranes, blue-purple haematoxylin nuclei, white glass and lumina.
const GLASS: Rgb = [242, 240, 244];
const MATRIX: Rgb = [214, 160, 196];
const MEMBRANE: Rgb = [176, 84, 150];
const LUMEN: Rgb = [236, 214, 230];
const NUCLEUS: Rgb = [92, 62, 140];
const TUFT: Rgb = [168, 92, 160];

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** The ellipse's implicit radius: < 1 inside. */
function ellipseR(g: SyntheticGlomerulus, x: number, y: number): number {
  const dx = x - g.cx;
  const dy = y - g.cy;
  const c = Math.cos(g.angle);
  const s = Math.sin(g.angle);
  const u = (dx * c + dy * s) / g.rx;
  const v = (-dx * s + dy * c) / g.ry;
  return Math.sqrt(u * u + v * v);
}

function ellipsePolygon(g: Omit<SyntheticGlomerulus, 'polygon'>, points = 48): [number, number][] {
  const ring: [number, number][] = [];
  const c = Math.cos(g.angle);
  const s = Math.sin(g.angle);
  for (let k = 0; k < points; k++) {
    const t = (2 * Math.PI * k) / points;
    const u = Math.cos(t) * g.rx;
    const v = Math.sin(t) * g.ry;
    ring.push([Math.round((g.cx + u * c - v * s) * 10) / 10, Math.round((g.cy + u * s + v * c) * 10) / 10]);
  }
  ring.push(ring[0]);
  return ring;
}

/**
 * Draws a PAS-like kidney section: an irregular tissue blob on glass, tubules (pink rings around pale lumina),
 * scattered nuclei, and glomeruli — round capillary tufts dense with nuclei inside a pale Bowman's space and a
 * thin capsule — which is what a segmentation model must learn to tell apart from tubules.
 */
export function renderSlide(options: SlideOptions): SyntheticSlide {
  const { width, height } = options;
  const random = new Random(options.seed);
  const radius = options.glomerulusRadius ?? Math.max(12, Math.min(width, height) / 24);
  const count = options.glomerulusCount ?? Math.max(3, Math.round((width * height) / (radius * radius * 60)));
  const shapeNoise = new ValueNoise(width, height, Math.max(width, height) / 3, random);
  const stain = new ValueNoise(width, height, radius * 1.5, random);
  const fine = new ValueNoise(width, height, Math.max(2, radius / 6), random);

  // Tissue: everything inside a noisy ellipse.
  const tissue = (x: number, y: number) => {
    const u = (x - width / 2) / (width * 0.46);
    const v = (y - height / 2) / (height * 0.46);
    return Math.sqrt(u * u + v * v) + (shapeNoise.at(x, y) - 0.5) * 0.35 < 1;
  };

  // Medulla: an elliptic core of the section. Glomeruli sit in the cortex only, as in a real kidney.
  const medullaShape = { cx: width / 2, cy: height / 2, rx: width * 0.2, ry: height * 0.2, angle: 0 };
  const inMedulla = (x: number, y: number, margin = 0) => {
    const u = (x - medullaShape.cx) / (medullaShape.rx + margin);
    const v = (y - medullaShape.cy) / (medullaShape.ry + margin);
    return u * u + v * v < 1;
  };

  const glomeruli: SyntheticGlomerulus[] = [];
  for (let tries = 0; glomeruli.length < count && tries < count * 50; tries++) {
    const rx = radius * random.uniform(0.8, 1.25);
    const ry = rx * random.uniform(0.8, 1.1);
    const cx = random.uniform(rx * 1.5, width - rx * 1.5);
    const cy = random.uniform(ry * 1.5, height - ry * 1.5);
    if (!tissue(cx, cy) || inMedulla(cx, cy, rx * 1.3)) continue;
    // Whole glomeruli only: one cut by the tissue edge would disagree with its outline polygon.
    const ring = Array.from({ length: 16 }, (_, k) => (2 * Math.PI * k) / 16);
    if (!ring.every((t) => tissue(cx + Math.cos(t) * rx * 1.15, cy + Math.sin(t) * rx * 1.15))) continue;
    if (glomeruli.some((g) => Math.hypot(g.cx - cx, g.cy - cy) < (g.rx + rx) * 1.6)) continue;
    const base = { cx, cy, rx, ry, angle: random.uniform(0, Math.PI) };
    glomeruli.push({ ...base, polygon: ellipsePolygon(base) });
  }

  // Tubules: rings with a pale lumen, kept off the glomeruli.
  const tubules: { cx: number; cy: number; r: number; w: number }[] = [];
  const tubuleCount = Math.round((width * height) / (radius * radius * 3));
  for (let k = 0; k < tubuleCount; k++) {
    const r = radius * random.uniform(0.25, 0.5);
    const cx = random.uniform(0, width);
    const cy = random.uniform(0, height);
    if (glomeruli.some((g) => Math.hypot(g.cx - cx, g.cy - cy) < Math.max(g.rx, g.ry) * 1.25 + r)) continue;
    tubules.push({ cx, cy, r, w: r * random.uniform(0.35, 0.55) });
  }
  // Nuclei as small discs; glomeruli get many more.
  const nuclei: { x: number; y: number; r: number }[] = [];
  const nucleusR = Math.max(1.2, radius / 14);
  for (let k = 0; k < (width * height) / ((radius * radius) / 2.5); k++) {
    nuclei.push({
      x: random.uniform(0, width),
      y: random.uniform(0, height),
      r: nucleusR * random.uniform(0.7, 1.2),
    });
  }
  for (const g of glomeruli) {
    for (let k = 0; k < 40; k++) {
      const t = random.uniform(0, 2 * Math.PI);
      const d = Math.sqrt(random.next()) * 0.8;
      nuclei.push({
        x: g.cx + Math.cos(t) * g.rx * d,
        y: g.cy + Math.sin(t) * g.ry * d,
        r: nucleusR * random.uniform(0.8, 1.3),
      });
    }
  }

  const rgb = new Uint8Array(width * height * 3);
  const mask = new Uint8Array(width * height);
  // Spatial buckets keep the per-pixel lookups local.
  const cell = Math.ceil(radius);
  const gridW = Math.ceil(width / cell) + 1;
  const gridH = Math.ceil(height / cell) + 1;
  const bucket = <T extends { x: number; y: number; r: number }>(items: T[]) => {
    const grid: T[][] = Array.from({ length: gridW * gridH }, () => []);
    for (const it of items) {
      const x0 = Math.max(0, Math.floor((it.x - it.r) / cell));
      const x1 = Math.min(gridW - 1, Math.floor((it.x + it.r) / cell));
      const y0 = Math.max(0, Math.floor((it.y - it.r) / cell));
      const y1 = Math.min(gridH - 1, Math.floor((it.y + it.r) / cell));
      for (let gy = y0; gy <= y1; gy++) for (let gx = x0; gx <= x1; gx++) grid[gy * gridW + gx].push(it);
    }
    return grid;
  };
  const tubuleGrid = bucket(tubules.map((t) => ({ ...t, x: t.cx, y: t.cy, r: t.r + t.w })));
  const nucleusGrid = bucket(nuclei);
  const glomGrid = bucket(glomeruli.map((g) => ({ g, x: g.cx, y: g.cy, r: Math.max(g.rx, g.ry) * 1.2 })));

  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * width + x;
      const cellIndex = Math.floor(y / cell) * gridW + Math.floor(x / cell);
      let colour: Rgb;
      if (!tissue(x, y)) {
        colour = GLASS;
      } else {
        colour = mix(MATRIX, MEMBRANE, stain.at(x, y) * 0.35);
        // The medulla stains paler: fewer cells, more collecting-duct lumina.
        if (inMedulla(x, y)) colour = mix(colour, LUMEN, 0.3);
        for (const t of tubuleGrid[cellIndex]) {
          const dx = x - t.cx;
          const dy = y - t.cy;
          const d2 = dx * dx + dy * dy;
          if (d2 >= t.r * t.r) continue;
          const d = Math.sqrt(d2);
          if (d < t.r - t.w) colour = LUMEN;
          else if (d < t.r) colour = mix(MEMBRANE, MATRIX, (t.r - d) / t.w);
        }
        for (const { g } of glomGrid[cellIndex]) {
          // Sampled at the pixel centre, where polygon rasterisers (and Kaggle's masks) test pixels.
          const r = ellipseR(g, x + 0.5, y + 0.5);
          if (r < 1) mask[at] = 1;
          if (r < 0.82) colour = mix(TUFT, MEMBRANE, fine.at(x, y) * 0.8);
          else if (r < 0.97) colour = LUMEN;
          else if (r < 1.06) colour = MEMBRANE;
        }
        for (const n of nucleusGrid[cellIndex]) {
          const dx = x - n.x;
          const dy = y - n.y;
          const d2 = dx * dx + dy * dy;
          // (d / r)^4 = (d^2 / r^2)^2, without a square root.
          if (d2 < n.r * n.r) colour = mix(NUCLEUS, colour, (d2 / (n.r * n.r)) ** 2);
        }
      }
      const grain = (fine.at((x * 3.1) % width, (y * 2.7) % height) - 0.5) * 14 + random.normal() * 3;
      rgb[at * 3] = clampByte(colour[0] + grain);
      rgb[at * 3 + 1] = clampByte(colour[1] + grain);
      rgb[at * 3 + 2] = clampByte(colour[2] + grain);
    }
  }
  const cortex: [number, number][] = [];
  for (let k = 0; k < 64; k++) {
    const t = (2 * Math.PI * k) / 64;
    cortex.push([width / 2 + Math.cos(t) * width * 0.45, height / 2 + Math.sin(t) * height * 0.45]);
  }
  cortex.push(cortex[0]);
  const medulla = ellipsePolygon(medullaShape, 48);
  return { width, height, rgb, mask, glomeruli, cortex, medulla };
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
