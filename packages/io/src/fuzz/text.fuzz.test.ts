import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnnotationError, parseQupathGeoJson } from '../annotations/qupath-geojson.js';
import { CsvError } from '../csv/csv-error.js';
import { CsvParser, parseCsv } from '../csv/csv-parser.js';
import { parseCsvTable } from '../csv/csv-table.js';
import { rleText } from '../rle/rle-encode.js';
import { RleError } from '../rle/rle-error.js';
import { parseRle } from '../rle/rle-parse.js';
import { fuzzParameters } from './fuzz-runs.js';

/**
 * The text readers on generated input: each either gives a result that obeys its contract or throws its
 * own error type with a message naming the source; never another exception. A hang would trip the test's
 * time limit. Their memory is bounded by construction (they keep runs, records or features, each smaller
 * than the text that described it), so the checks here are about results and messages.
 */

/** Text made from the characters that mean something to these formats, plus anything. */
const formatText = (alphabet: string[]) =>
  fc
    .array(fc.oneof(fc.constantFrom(...alphabet), fc.string({ maxLength: 3 })), { maxLength: 60 })
    .map((parts) => parts.join(''));

function pixels(
  runs: { starts: Float64Array; lengths: Float64Array; count: number },
  total: number,
): Uint8Array {
  const out = new Uint8Array(total);
  for (let r = 0; r < runs.count; r++) out.fill(1, runs.starts[r], runs.starts[r] + runs.lengths[r]);
  return out;
}

describe('RLE parser (fast-check)', () => {
  it('any text parses to sorted, disjoint runs inside the image, or throws RleError naming the image', () => {
    const text = formatText([
      '1',
      '2',
      '9',
      '0',
      ' ',
      '  ',
      '\n',
      '-',
      '+',
      '.',
      'e',
      '99999999999999999999',
      '\t',
    ]);
    fc.assert(
      fc.property(text, fc.nat({ max: 50 }), fc.nat({ max: 50 }), fc.nat({ max: 60 }), (t, w, h, cut) => {
        try {
          // Split anywhere: a streamed encoding must mean what the whole text means.
          const runs = parseRle([t.slice(0, cut), t.slice(cut)], { width: w, height: h, id: 'img-1' });
          let end = 0;
          for (let r = 0; r < runs.count; r++) {
            expect(runs.starts[r]).toBeGreaterThanOrEqual(end);
            expect(runs.lengths[r]).toBeGreaterThan(0);
            end = runs.starts[r] + runs.lengths[r];
          }
          expect(end).toBeLessThanOrEqual(w * h);
          // And what was accepted writes back to text that covers the same pixels.
          const again = parseRle([...rleText(runs)].join(''), { width: w, height: h });
          expect(pixels(again, w * h)).toEqual(pixels(runs, w * h));
        } catch (error) {
          if (!(error instanceof RleError)) throw error;
          expect(error.message).toMatch(/^RLE of image "img-1": token \d+ at character \d+/);
        }
      }),
      fuzzParameters(3000),
    );
  });
});

describe('CSV reader (fast-check)', () => {
  const text = formatText([',', '"', '""', '\n', '\r\n', '\r', 'a', 'id', 'encoding', ' ', '\uFEFF']);

  it('parses any text the same whole or in pieces, or throws CsvError naming the file and a line', () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat({ max: 80 }), { maxLength: 4 }), (t, cuts) => {
        let whole: string[][] | CsvError;
        try {
          whole = parseCsv(t, 'fuzz.csv');
        } catch (error) {
          if (!(error instanceof CsvError)) throw error;
          expect(error.message).toMatch(/^fuzz\.csv: line \d+: /);
          expect(error.line).toBeGreaterThanOrEqual(1);
          whole = error;
        }
        const parser = new CsvParser('fuzz.csv');
        const points = [...new Set(cuts.map((c) => Math.min(c, t.length)))].sort((a, b) => a - b);
        let pieces: string[][] | CsvError;
        try {
          const rows = [];
          let from = 0;
          for (const p of [...points, t.length]) {
            rows.push(...parser.push(t.slice(from, p)));
            from = p;
          }
          rows.push(...parser.finish());
          pieces = rows.map((r) => r.fields);
        } catch (error) {
          if (!(error instanceof CsvError)) throw error;
          pieces = error;
        }
        if (whole instanceof CsvError) expect(pieces).toBeInstanceOf(CsvError);
        else expect(pieces).toEqual(whole);
      }),
      fuzzParameters(3000),
    );
  });

  it('tables: every record has exactly the header columns, or the error names the file and line', () => {
    fc.assert(
      fc.property(text, (t) => {
        try {
          const records = parseCsvTable(t, { source: 'fuzz.csv', required: ['id'] });
          for (const r of records) expect(Object.keys(r.values)).toContain('id');
        } catch (error) {
          if (!(error instanceof CsvError)) throw error;
          expect(error.message).toMatch(/^fuzz\.csv: line \d+: /);
        }
      }),
      fuzzParameters(2000),
    );
  });
});

describe('GeoJSON reader (fast-check)', () => {
  const coordinate = fc.oneof(fc.double({ noNaN: false }), fc.integer(), fc.constant('1'), fc.constant(null));
  const ring = fc.array(fc.oneof(fc.array(coordinate, { maxLength: 3 }), coordinate), { maxLength: 6 });
  const geometry = fc.record({
    type: fc.constantFrom('Polygon', 'MultiPolygon', 'Point', 'LineString', 'GeometryCollection', 7),
    coordinates: fc.oneof(
      fc.array(ring, { maxLength: 3 }),
      fc.array(fc.array(ring, { maxLength: 2 }), { maxLength: 2 }),
      fc.anything(),
    ),
  });
  const feature = fc.oneof(
    fc.record({
      type: fc.constantFrom('Feature', 'feature'),
      geometry: fc.oneof(geometry, fc.anything()),
      properties: fc.oneof(
        fc.record({ classification: fc.record({ name: fc.oneof(fc.string(), fc.integer()) }) }),
        fc.anything(),
      ),
    }),
    fc.anything(),
  );
  const document = fc.oneof(
    fc.array(feature, { maxLength: 4 }),
    fc.record({
      type: fc.constant('FeatureCollection'),
      features: fc.oneof(fc.array(feature, { maxLength: 4 }), fc.anything()),
    }),
    fc.anything(),
  );

  it('any JSON reads to polygons of finite points with 3+ corners, or throws AnnotationError naming the file', () => {
    fc.assert(
      fc.property(document, fc.nat({ max: 200 }), fc.boolean(), (doc, cut, truncate) => {
        const full = JSON.stringify(doc) ?? 'undefined';
        const text = truncate ? full.slice(0, cut) : full;
        try {
          for (const a of parseQupathGeoJson(text, 'fuzz.json')) {
            expect(a.polygons.length).toBeGreaterThan(0);
            for (const polygon of a.polygons) {
              for (const r of polygon) {
                expect(r.length).toBeGreaterThanOrEqual(3);
                for (const [x, y] of r) expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true);
              }
            }
          }
        } catch (error) {
          if (!(error instanceof AnnotationError)) throw error;
          expect(error.message).toMatch(/^fuzz\.json: /);
        }
      }),
      fuzzParameters(2000),
    );
  });
});
