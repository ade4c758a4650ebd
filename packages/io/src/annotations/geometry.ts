/** A point [x, y] in image pixels (x the column, y the row, origin at the top-left corner of the image). */
export type Point = [number, number];
/** A closed ring of points; the closing point may or may not repeat the first. */
export type Ring = Point[];
/** A polygon: its outer ring, then its holes. */
export type PolygonRings = Ring[];

/** Twice the signed area of a ring by the shoelace formula (positive when x-to-y turning, i.e. clockwise on screen). */
export function ringSignedArea2(ring: Ring): number {
  let sum = 0;
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    const [x0, y0] = ring[i];
    const [x1, y1] = ring[(i + 1) % n];
    sum += x0 * y1 - x1 * y0;
  }
  return sum;
}

/** Area of a polygon in pixels: the outer ring less its holes. */
export function polygonArea(polygon: PolygonRings): number {
  let area = 0;
  polygon.forEach((ring, i) => {
    const a = Math.abs(ringSignedArea2(ring)) / 2;
    area += i === 0 ? a : -a;
  });
  return area;
}

/** Axis-aligned bounds of a set of polygons, or undefined when they have no points. */
export function polygonsBounds(
  polygons: readonly PolygonRings[],
): { minX: number; minY: number; maxX: number; maxY: number } | undefined {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const polygon of polygons) {
    for (const ring of polygon) {
      for (const [x, y] of ring) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  return minX <= maxX ? { minX, minY, maxX, maxY } : undefined;
}
