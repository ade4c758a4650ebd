import type { PolygonRings, Ring } from '../annotations/geometry.js';
import type { BinaryMask } from './binary-mask.js';
import { type Component, connectedComponents } from './components.js';

/** A traced component: its polygon (outer ring, then holes) and the component it came from. */
export interface TracedPolygon {
  component: Component;
  rings: PolygonRings;
}

export interface TraceOptions {
  /** Mask pixels per image pixel; coordinates are divided by it (a mask at 0.25 gives full-size polygons). */
  scale?: number;
  /** Image coordinates of the mask's top-left corner, added after scaling. */
  originX?: number;
  originY?: number;
  /** Components smaller than this many mask pixels are dropped (speckle in a prediction). Default 1. */
  minArea?: number;
}

// Directions of travel along pixel edges, in image coordinates (y down).
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];

/**
 * Traces each 4-connected component of a mask into a polygon along the pixel edges: one outer ring and a
 * ring per hole. The rings follow pixel borders exactly, so rasterising them with pixel-centre sampling
 * gives back the very same pixels; only corner points are kept.
 *
 * Outer rings run clockwise on screen (positive shoelace area in image coordinates, counter-clockwise in
 * GeoJSON's y-up sense, as RFC 7946 asks), holes the other way.
 */
export function traceContours(mask: BinaryMask, options: TraceOptions = {}): TracedPolygon[] {
  const scale = options.scale ?? 1;
  const originX = options.originX ?? 0;
  const originY = options.originY ?? 0;
  const minArea = options.minArea ?? 1;
  const labelled = connectedComponents(mask);
  // Group the runs by component (a counting sort keeps them in row order).
  const count = labelled.components.length;
  const firstRun = new Int32Array(count + 2);
  for (let r = 0; r < labelled.runCount; r++) firstRun[labelled.runLabel[r] + 1]++;
  for (let l = 1; l <= count + 1; l++) firstRun[l] += firstRun[l - 1];
  const fill = firstRun.slice();
  const byLabel = new Int32Array(labelled.runCount);
  for (let r = 0; r < labelled.runCount; r++) byLabel[fill[labelled.runLabel[r]]++] = r;

  const out: TracedPolygon[] = [];
  for (const component of labelled.components) {
    if (component.area < minArea) continue;
    // The component alone, in its box with a one-pixel empty border.
    const w = component.width + 2;
    const h = component.height + 2;
    const local = new Uint8Array(w * h);
    for (let k = firstRun[component.label]; k < firstRun[component.label + 1]; k++) {
      const r = byLabel[k];
      const y = labelled.runY[r] - component.y + 1;
      local.fill(1, y * w + labelled.runX0[r] - component.x + 1, y * w + labelled.runX1[r] - component.x + 1);
    }
    const rings = traceLocal(local, w, h).map((ring) =>
      ring.map(([x, y]): [number, number] => [
        (x + component.x - 1) / scale + originX,
        (y + component.y - 1) / scale + originY,
      ]),
    );
    // The one ring with positive area is the outline; the others are holes.
    rings.sort((a, b) => ringArea2(b) - ringArea2(a));
    out.push({ component, rings });
  }
  return out;
}

function ringArea2(ring: Ring): number {
  let sum = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x0, y0] = ring[i];
    const [x1, y1] = ring[(i + 1) % ring.length];
    sum += x0 * y1 - x1 * y0;
  }
  return sum;
}

/**
 * Boundary rings of a padded local mask, on the (w + 1) x (h + 1) grid of pixel corners. Every boundary
 * edge of every set pixel is an arrow that keeps the pixel on its right; the arrows link head to tail
 * into closed rings. Where two set pixels touch only at a corner, the walk turns right, which keeps them
 * apart, as 4-connectivity says.
 */
function traceLocal(local: Uint8Array, w: number, h: number): Ring[] {
  const cw = w + 1;
  // Bit d of out[v] is an untraced edge leaving corner v in direction d.
  const outEdges = new Uint8Array(cw * (h + 1));
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      if (local[y * w + x] === 0) continue;
      if (local[(y - 1) * w + x] === 0) outEdges[y * cw + x] |= 1; // top edge, heading +x
      if (local[y * w + x + 1] === 0) outEdges[y * cw + x + 1] |= 2; // right edge, heading +y
      if (local[(y + 1) * w + x] === 0) outEdges[(y + 1) * cw + x + 1] |= 4; // bottom edge, heading -x
      if (local[y * w + x - 1] === 0) outEdges[(y + 1) * cw + x] |= 8; // left edge, heading -y
    }
  }
  const rings: Ring[] = [];
  for (let v0 = 0; v0 < outEdges.length; v0++) {
    while (outEdges[v0] !== 0) {
      const d0 = 31 - Math.clz32(outEdges[v0] & -outEdges[v0]);
      const ring: Ring = [];
      let v = v0;
      let d = d0;
      outEdges[v] &= ~(1 << d);
      ring.push([v % cw, Math.floor(v / cw)]);
      for (;;) {
        v += DX[d] + DY[d] * cw;
        // Prefer a right turn, then straight on, then a left turn; the start edge counts as available
        // at the start corner so the ring closes exactly when the rule would take it again.
        const available = outEdges[v] | (v === v0 ? 1 << d0 : 0);
        let next = -1;
        for (const turn of [1, 0, 3]) {
          const candidate = (d + turn) & 3;
          if (available & (1 << candidate)) {
            next = candidate;
            break;
          }
        }
        if (next === -1) throw new Error('traceContours: broken boundary (internal error)');
        if (v === v0 && next === d0) break;
        if (next !== d) ring.push([v % cw, Math.floor(v / cw)]);
        outEdges[v] &= ~(1 << next);
        d = next;
      }
      // The start corner is a real corner only if the walk turns there.
      if (d === d0) ring.shift();
      rings.push(ring);
    }
  }
  return rings;
}
