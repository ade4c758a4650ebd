import type { BinaryMask } from '../masks/binary-mask.js';
import { Mask } from '../masks/mask.js';
import { type PolygonRings, ringSignedArea2 } from './geometry.js';
import type { Annotation } from './qupath-geojson.js';

export interface RasterizeOptions {
  /** Mask pixels per image pixel: 0.25 rasterises a full-resolution polygon into a quarter-size mask. */
  scale?: number;
  /** Image-pixel coordinates of the mask's top-left corner, for a mask that covers a window of the image. */
  originX?: number;
  originY?: number;
  /**
   * 'evenodd' (default) counts crossings; 'nonzero' sums the winding, with each polygon's outer ring
   * oriented one way and its holes the other first, so holes stay empty whatever order the file wrote.
   */
  fillRule?: 'evenodd' | 'nonzero';
}

interface Edge {
  yTop: number;
  yBottom: number;
  /** x at yTop and the change of x per unit of y. */
  x: number;
  slope: number;
  winding: number;
}

/**
 * Paints polygons into a mask by scanline fill with pixel-centre sampling: mask pixel (x, y) is set when
 * its centre (x + 0.5, y + 0.5), mapped back to image coordinates, lies inside a polygon. Polygons are
 * united; holes of a polygon cut it. A centre exactly on a left or top edge is inside, on a right or
 * bottom edge outside, so polygons that share an edge never overlap or leave a gap.
 */
export function rasterizePolygons(
  polygons: readonly PolygonRings[],
  target: BinaryMask,
  options: RasterizeOptions = {},
): BinaryMask {
  const scale = options.scale ?? 1;
  const originX = options.originX ?? 0;
  const originY = options.originY ?? 0;
  const nonzero = (options.fillRule ?? 'evenodd') === 'nonzero';
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new RangeError(`rasterizePolygons: scale must be positive, got ${scale}`);
  for (const polygon of polygons) {
    const edges: Edge[] = [];
    polygon.forEach((ring, r) => {
      // For nonzero, outer rings count +1 inside and holes -1, whatever their orientation in the file.
      const area = ringSignedArea2(ring);
      const flip = nonzero && ((r === 0 && area < 0) || (r > 0 && area > 0)) ? -1 : 1;
      const n = ring.length;
      for (let i = 0; i < n; i++) {
        const x0 = (ring[i][0] - originX) * scale;
        const y0 = (ring[i][1] - originY) * scale;
        const x1 = (ring[(i + 1) % n][0] - originX) * scale;
        const y1 = (ring[(i + 1) % n][1] - originY) * scale;
        if (y0 === y1) continue; // a horizontal edge is never crossed by a scanline through pixel centres
        const down = y1 > y0;
        const yTop = down ? y0 : y1;
        edges.push({
          yTop,
          yBottom: down ? y1 : y0,
          x: down ? x0 : x1,
          slope: (x1 - x0) / (y1 - y0),
          winding: (down ? 1 : -1) * flip,
        });
      }
    });
    fillEdges(edges, target, nonzero);
  }
  return target;
}

function fillEdges(edges: Edge[], target: BinaryMask, nonzero: boolean): void {
  if (edges.length === 0) return;
  edges.sort((a, b) => a.yTop - b.yTop);
  let yMax = -Infinity;
  for (const e of edges) yMax = Math.max(yMax, e.yBottom);
  // Rows whose centre y + 0.5 lies in [yTop, yMax).
  const rowFirst = Math.max(0, Math.ceil(edges[0].yTop - 0.5));
  const rowLast = Math.min(target.height - 1, Math.ceil(yMax - 0.5) - 1);
  let active: Edge[] = [];
  let next = 0;
  const xs: number[] = [];
  const ws: number[] = [];
  const order: number[] = [];
  for (let y = rowFirst; y <= rowLast; y++) {
    const yc = y + 0.5;
    while (next < edges.length && edges[next].yTop <= yc) active.push(edges[next++]);
    active = active.filter((e) => e.yBottom > yc);
    // An edge covers the half-open range yTop <= yc < yBottom, so a vertex is counted once.
    xs.length = 0;
    ws.length = 0;
    for (const e of active) {
      if (e.yTop > yc) continue;
      xs.push(e.x + (yc - e.yTop) * e.slope);
      ws.push(e.winding);
    }
    order.length = xs.length;
    for (let i = 0; i < xs.length; i++) order[i] = i;
    order.sort((a, b) => xs[a] - xs[b]);
    let inside = 0;
    for (let k = 0; k < order.length - 1; k++) {
      inside = nonzero ? inside + ws[order[k]] : inside ^ 1;
      if (inside === 0) continue;
      // Pixel centres x + 0.5 in [xa, xb).
      const x0 = Math.max(0, Math.ceil(xs[order[k]] - 0.5));
      const x1 = Math.min(target.width, Math.ceil(xs[order[k + 1]] - 0.5));
      if (x1 > x0) target.fillRowSpan(y, x0, x1);
    }
  }
}

/**
 * A mask of the annotations (optionally only those of one classification, e.g. 'glomerulus') at a scale
 * of the image: the usual way to turn a Kaggle {id}.json into a training target.
 */
export function rasterizeAnnotations(
  annotations: readonly Annotation[],
  width: number,
  height: number,
  options: RasterizeOptions & { classification?: string } = {},
): Mask {
  const want = options.classification?.toLowerCase();
  const polygons = annotations
    .filter((a) => want === undefined || a.classification?.toLowerCase() === want)
    .flatMap((a) => a.polygons);
  return rasterizePolygons(polygons, new Mask(width, height), options) as Mask;
}
