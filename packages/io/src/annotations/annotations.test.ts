import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Mask } from '../masks/mask.js';
import { traceContours } from '../masks/trace-contours.js';
import { polygonArea } from './geometry.js';
import {
  AnnotationError,
  annotationsOfClass,
  parseQupathGeoJson,
  stringifyQupathGeoJson,
  toQupathFeatures,
} from './qupath-geojson.js';
import { rasterizeAnnotations, rasterizePolygons } from './rasterize.js';

const KAGGLE = fileURLToPath(
  new URL('../../../../../shared/data/hubmap-kaggle-annotations/', import.meta.url),
);

const feature = (geometry: unknown, name = 'glomerulus') => ({
  type: 'Feature',
  id: 'PathAnnotationObject',
  geometry,
  properties: { classification: { name, colorRGB: -3140401 }, isLocked: true, measurements: [] },
});

const square = (x0: number, y0: number, x1: number, y1: number) => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
];

describe('QuPath GeoJSON', () => {
  it('reads a list of Features and a FeatureCollection, Polygon and MultiPolygon with holes', () => {
    const list = [
      feature({ type: 'Polygon', coordinates: [square(0, 0, 10, 10), square(2, 2, 4, 4)] }),
      feature(
        { type: 'MultiPolygon', coordinates: [[square(20, 0, 30, 10)], [square(40, 0, 50, 10)]] },
        'Cortex',
      ),
    ];
    const a = parseQupathGeoJson(JSON.stringify(list), 'x.json');
    const b = parseQupathGeoJson(JSON.stringify({ type: 'FeatureCollection', features: list }), 'x.json');
    expect(b).toEqual(a);
    expect(a.map((f) => [f.index, f.classification, f.polygons.length])).toEqual([
      [0, 'glomerulus', 1],
      [1, 'Cortex', 2],
    ]);
    expect(polygonArea(a[0].polygons[0])).toBe(96);
    expect(annotationsOfClass(a, 'cortex').map((f) => f.index)).toEqual([1]);
  });

  it('names the file and the feature index in its errors', () => {
    const bad = (json: unknown) => () => parseQupathGeoJson(JSON.stringify(json), 'slide.json');
    expect(() => parseQupathGeoJson('{oops', 'slide.json')).toThrow(/^slide.json: not JSON/);
    expect(bad({ hello: 1 })).toThrow('slide.json: expected a list of Features or a FeatureCollection');
    const ok = feature({ type: 'Polygon', coordinates: [square(0, 0, 1, 1)] });
    expect(bad([ok, feature({ type: 'Point', coordinates: [1, 2] })])).toThrow(
      'slide.json: feature 1: geometry type "Point" is not supported (expected Polygon or MultiPolygon)',
    );
    expect(bad([feature({ type: 'Polygon', coordinates: [] })])).toThrow(
      'slide.json: feature 0: empty polygon (no rings)',
    );
    expect(
      bad([
        ok,
        ok,
        feature({
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 1],
              [0, 0],
            ],
          ],
        }),
      ]),
    ).toThrow(/slide.json: feature 2: empty polygon: ring 0 has fewer than 3 points/);
    expect(
      bad([
        feature({
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 'a'],
              [2, 2],
            ],
          ],
        }),
      ]),
    ).toThrow(/feature 0: ring 0 point 1 is not a pair of finite numbers/);
    expect(bad([feature({ type: 'MultiPolygon', coordinates: [] })])).toThrow(
      /feature 0: empty MultiPolygon/,
    );
    expect(bad([feature(null)])).toThrow(/feature 0: has no geometry/);
    let caught: unknown;
    try {
      bad([{ type: 'Nope' }])();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AnnotationError);
    expect((caught as AnnotationError).featureIndex).toBe(0);
  });

  it.skipIf(!existsSync(KAGGLE))(
    'reads the real Kaggle glomerulus and anatomical-structure files (needs ../shared/data)',
    () => {
      const glomeruli = parseQupathGeoJson(readFileSync(`${KAGGLE}aaa6a05cc.json`, 'utf8'), 'aaa6a05cc.json');
      expect(glomeruli.length).toBe(96);
      expect(annotationsOfClass(glomeruli, 'glomerulus').length).toBe(96);
      const anatomy = parseQupathGeoJson(
        readFileSync(`${KAGGLE}aaa6a05cc-anatomical-structure.json`, 'utf8'),
      );
      expect(anatomy.map((a) => a.classification).sort()).toEqual(['Cortex', 'Medulla']);
      // Cortex and medulla at 1/16 scale of the 13013 x 18484 image: both present, neither overlapping much.
      const cortex = rasterizeAnnotations(anatomy, 814, 1156, {
        scale: 1 / 16,
        classification: 'Cortex',
        fillRule: 'nonzero',
      });
      const medulla = rasterizeAnnotations(anatomy, 814, 1156, { scale: 1 / 16, classification: 'Medulla' });
      let overlap = 0;
      for (let i = 0; i < cortex.data.length; i++) overlap += cortex.data[i] & medulla.data[i];
      expect(cortex.countOnes()).toBeGreaterThan(10_000);
      expect(medulla.countOnes()).toBeGreaterThan(10_000);
      expect(overlap / medulla.countOnes()).toBeLessThan(0.05);
    },
  );
});

describe('rasterising polygons', () => {
  it('samples pixel centres: a square on pixel corners fills exactly its pixels', () => {
    const mask = rasterizePolygons([[square(1, 1, 3, 4)]], new Mask(5, 5)) as Mask;
    expect(mask.countOnes()).toBe(6);
    expect([mask.get(0, 1), mask.get(1, 1), mask.get(2, 3), mask.get(3, 3), mask.get(1, 4)]).toEqual([
      0, 1, 1, 0, 0,
    ]);
  });

  it('cuts holes under both fill rules, whatever the ring orientation', () => {
    const outer = square(0, 0, 8, 8);
    const hole = square(2, 2, 6, 6);
    for (const holeRing of [hole, [...hole].reverse()]) {
      for (const fillRule of ['evenodd', 'nonzero'] as const) {
        const mask = rasterizePolygons([[outer, holeRing]], new Mask(8, 8), { fillRule });
        expect(mask.countOnes()).toBe(48);
        expect(mask.get(3, 3)).toBe(0);
      }
    }
  });

  it('differs between even-odd and non-zero on a self-overlapping ring', () => {
    // A ring that goes round the square twice: even-odd cancels, non-zero fills.
    const twice = [...square(0, 0, 4, 4).slice(0, 4), ...square(0, 0, 4, 4).slice(0, 4)];
    expect(rasterizePolygons([[twice]], new Mask(4, 4), { fillRule: 'evenodd' }).countOnes()).toBe(0);
    expect(rasterizePolygons([[twice]], new Mask(4, 4), { fillRule: 'nonzero' }).countOnes()).toBe(16);
  });

  it('rasterises at a scale and an origin', () => {
    const polygons = [[square(100, 200, 140, 240)]];
    const mask = rasterizePolygons(polygons, new Mask(10, 10), { scale: 0.25, originX: 92, originY: 200 });
    expect(mask.countOnes()).toBe(80); // columns 2..9 (the square runs past the right edge), rows 0..9
    expect([mask.get(1, 0), mask.get(2, 0), mask.get(9, 9)]).toEqual([0, 1, 1]);
    // A triangle's area is matched to within its boundary pixels.
    const triangle = [
      [
        [0, 0],
        [100, 0],
        [0, 100],
      ],
    ] as [number, number][][];
    const tri = rasterizePolygons([triangle], new Mask(100, 100));
    expect(Math.abs(tri.countOnes() - 5000)).toBeLessThan(100);
  });

  it('writes traced masks as QuPath features that read back and rasterise to the mask', () => {
    const mask = new Mask(12, 9);
    for (let y = 1; y < 8; y++) for (let x = 1; x < 7; x++) mask.set(x, y, 1);
    mask.set(3, 4, 0);
    mask.set(9, 2, 1);
    mask.set(10, 2, 1);
    const features = toQupathFeatures(traceContours(mask, { scale: 0.5 }).map((t) => t.rings));
    const text = stringifyQupathGeoJson(features);
    const back = parseQupathGeoJson(text, 'predicted.json');
    expect(back.length).toBe(2);
    expect(back.every((a) => a.classification === 'glomerulus')).toBe(true);
    // Closed rings: first point repeated last, as GeoJSON requires.
    const ring = features[0].geometry.coordinates[0] as number[][];
    expect(ring[0]).toEqual(ring[ring.length - 1]);
    const redrawn = rasterizeAnnotations(back, 12, 9, { scale: 0.5, classification: 'glomerulus' });
    expect(redrawn.data).toEqual(mask.data);
    expect(JSON.parse(stringifyQupathGeoJson(features, 'list'))).toHaveLength(2);
  });
});
