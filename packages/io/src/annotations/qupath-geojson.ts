import type { Point, PolygonRings, Ring } from './geometry.js';

/** One annotated object of a QuPath / Kaggle GeoJSON file. */
export interface Annotation {
  /** Position of the feature in the file (0-based), for messages and for matching back. */
  index: number;
  /** `properties.classification.name` (glomerulus, Cortex, Medulla, ...), or undefined when absent. */
  classification: string | undefined;
  /** The geometry as polygons (a Polygon gives one, a MultiPolygon several), each outer ring then holes. */
  polygons: PolygonRings[];
  /** The feature's properties as they were in the file. */
  properties: Record<string, unknown>;
}

/** A file that is not QuPath GeoJSON as the Kaggle data uses it; the message names file and feature. */
export class AnnotationError extends Error {
  override readonly name = 'AnnotationError';
  readonly source: string;
  readonly featureIndex: number | undefined;

  constructor(source: string, featureIndex: number | undefined, problem: string) {
    super(`${source}${featureIndex === undefined ? '' : `: feature ${featureIndex}`}: ${problem}`);
    this.source = source;
    this.featureIndex = featureIndex;
  }
}

/**
 * Reads QuPath GeoJSON in the forms the Kaggle HuBMAP files use: a bare array of Features (Kaggle) or a
 * FeatureCollection (QuPath's export); a single Feature is read as a list of one. Geometries must be
 * Polygon or MultiPolygon; coordinates are image pixels [x, y].
 */
export function parseQupathGeoJson(text: string, source = 'GeoJSON'): Annotation[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AnnotationError(source, undefined, `not JSON (${(error as Error).message})`);
  }
  return readQupathGeoJson(json, source);
}

/** Like {@link parseQupathGeoJson}, for an already parsed JSON value. */
export function readQupathGeoJson(json: unknown, source = 'GeoJSON'): Annotation[] {
  let features: unknown[];
  if (Array.isArray(json)) {
    features = json;
  } else if (isObject(json) && json.type === 'FeatureCollection') {
    if (!Array.isArray(json.features))
      throw new AnnotationError(source, undefined, 'FeatureCollection without a features array');
    features = json.features;
  } else if (isObject(json) && json.type === 'Feature') {
    features = [json];
  } else {
    throw new AnnotationError(source, undefined, 'expected a list of Features or a FeatureCollection');
  }
  return features.map((feature, index) => readFeature(feature, index, source));
}

function readFeature(feature: unknown, index: number, source: string): Annotation {
  const fail = (problem: string): never => {
    throw new AnnotationError(source, index, problem);
  };
  if (!isObject(feature) || feature.type !== 'Feature') fail('not a GeoJSON Feature');
  const f = feature as Record<string, unknown>;
  const geometry = f.geometry;
  if (!isObject(geometry)) return fail('has no geometry');
  const properties = isObject(f.properties) ? f.properties : {};
  const classification = isObject(properties.classification) ? properties.classification.name : undefined;
  if (classification !== undefined && typeof classification !== 'string')
    fail('classification.name is not a string');
  let polygons: PolygonRings[];
  if (geometry.type === 'Polygon') {
    polygons = [readPolygon(geometry.coordinates, fail, '')];
  } else if (geometry.type === 'MultiPolygon') {
    if (!Array.isArray(geometry.coordinates) || geometry.coordinates.length === 0) {
      return fail('empty MultiPolygon (no polygons)');
    }
    polygons = geometry.coordinates.map((p, i) => readPolygon(p, fail, ` (polygon ${i})`));
  } else {
    return fail(
      `geometry type ${JSON.stringify(geometry.type)} is not supported (expected Polygon or MultiPolygon)`,
    );
  }
  return { index, classification: classification as string | undefined, polygons, properties };
}

function readPolygon(coordinates: unknown, fail: (problem: string) => never, where: string): PolygonRings {
  if (!Array.isArray(coordinates) || coordinates.length === 0) fail(`empty polygon${where} (no rings)`);
  return (coordinates as unknown[]).map((ring, r) => readRing(ring, fail, `${where} ring ${r}`));
}

function readRing(ring: unknown, fail: (problem: string) => never, where: string): Ring {
  if (!Array.isArray(ring)) fail(`${where.trim()} is not an array of points`);
  const points: Ring = [];
  for (const [i, p] of (ring as unknown[]).entries()) {
    if (!Array.isArray(p) || p.length < 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      fail(`${where.trim()} point ${i} is not a pair of finite numbers`);
    }
    points.push([(p as number[])[0], (p as number[])[1]] as Point);
  }
  // The closing point repeats the first; without it a ring needs 3 distinct corners to enclose anything.
  const last = points[points.length - 1];
  const closed = points.length > 1 && last[0] === points[0][0] && last[1] === points[0][1];
  if (points.length - (closed ? 1 : 0) < 3) fail(`empty polygon:${where} has fewer than 3 points`);
  return points;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The annotations whose classification is `name` (compared without regard to case). */
export function annotationsOfClass(annotations: readonly Annotation[], name: string): Annotation[] {
  const want = name.toLowerCase();
  return annotations.filter((a) => a.classification?.toLowerCase() === want);
}

export interface QupathFeatureOptions {
  /** Classification name, default 'glomerulus'. */
  classification?: string;
  /** QuPath's packed colour (the value the Kaggle files use for glomerulus by default). */
  colorRGB?: number;
}

/** A GeoJSON Feature that QuPath imports as an annotation. */
export interface QupathFeature {
  type: 'Feature';
  id: string;
  geometry:
    | { type: 'Polygon'; coordinates: number[][][] }
    | { type: 'MultiPolygon'; coordinates: number[][][][] };
  properties: {
    classification: { name: string; colorRGB: number };
    isLocked: boolean;
    measurements: unknown[];
  };
}

/**
 * Features in the Kaggle / QuPath form for polygons in image pixels; one Feature per polygon, rings closed
 * (first point repeated) as GeoJSON requires.
 */
export function toQupathFeatures(
  polygons: readonly PolygonRings[],
  options: QupathFeatureOptions = {},
): QupathFeature[] {
  const name = options.classification ?? 'glomerulus';
  const colorRGB = options.colorRGB ?? -3140401;
  return polygons.map((polygon) => ({
    type: 'Feature',
    id: 'PathAnnotationObject',
    geometry: { type: 'Polygon', coordinates: polygon.map(closeRing) },
    properties: { classification: { name, colorRGB }, isLocked: false, measurements: [] },
  }));
}

function closeRing(ring: Ring): number[][] {
  const out = ring.map(([x, y]) => [x, y]);
  const first = out[0];
  const last = out[out.length - 1];
  if (out.length > 0 && (first[0] !== last[0] || first[1] !== last[1])) out.push([first[0], first[1]]);
  return out;
}

/** The text of a QuPath-importable GeoJSON file: a FeatureCollection, or a bare list like the Kaggle files. */
export function stringifyQupathGeoJson(
  features: readonly QupathFeature[],
  form: 'collection' | 'list' = 'collection',
): string {
  const body = form === 'list' ? features : { type: 'FeatureCollection', features };
  return JSON.stringify(body);
}
