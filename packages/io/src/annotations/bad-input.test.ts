import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BadInputRow, docSection } from '../../../../docs/bad-input-table.js';
import { readQupathGeoJsonFile } from './geojson-file.js';

/** Broken annotation files, read by path as the dataset loader and the CLI do. */

interface GeoJsonCase extends BadInputRow {
  text: string;
}

const dir = mkdtempSync(join(tmpdir(), 'nephron-bad-geojson-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const square = [
  [0, 0],
  [10, 0],
  [10, 10],
  [0, 10],
  [0, 0],
];
const feature = (geometry: unknown) => ({
  type: 'Feature',
  geometry,
  properties: { classification: { name: 'glomerulus' } },
});
const list = (...geometries: unknown[]) => JSON.stringify(geometries.map(feature));

const cases: GeoJsonCase[] = [
  { name: 'not JSON', input: '`{"type": "Feat`', text: '{"type": "Feat', expected: ['not JSON'] },
  { name: 'empty file', input: '0 bytes', text: '', expected: ['not JSON'] },
  {
    name: 'JSON but not GeoJSON',
    input: '`{"hello": 1}`',
    text: '{"hello": 1}',
    expected: ['expected a list of Features or a FeatureCollection'],
  },
  {
    name: 'FeatureCollection without features',
    input: '`{"type": "FeatureCollection"}`',
    text: '{"type": "FeatureCollection"}',
    expected: ['FeatureCollection without a features array'],
  },
  {
    name: 'not a Feature',
    input: 'a list holding a number',
    text: '[3]',
    expected: ['feature 0', 'not a GeoJSON Feature'],
  },
  {
    name: 'no geometry',
    input: 'a Feature without geometry',
    text: JSON.stringify([{ type: 'Feature', properties: {} }]),
    expected: ['feature 0', 'has no geometry'],
  },
  {
    name: 'wrong geometry type (Point)',
    input: 'second feature a Point',
    text: list({ type: 'Polygon', coordinates: [square] }, { type: 'Point', coordinates: [1, 2] }),
    expected: ['feature 1', 'geometry type "Point" is not supported'],
  },
  {
    name: 'wrong geometry type (LineString)',
    input: 'a LineString',
    text: list({ type: 'LineString', coordinates: square }),
    expected: ['feature 0', 'geometry type "LineString" is not supported'],
  },
  {
    name: 'empty polygon (no rings)',
    input: 'Polygon with `coordinates: []`',
    text: list({ type: 'Polygon', coordinates: [] }),
    expected: ['feature 0', 'empty polygon (no rings)'],
  },
  {
    name: 'empty polygon (two points)',
    input: 'a ring of 2 points and its closing point',
    text: list({
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [5, 5],
          [0, 0],
        ],
      ],
    }),
    expected: ['feature 0', 'empty polygon', 'ring 0 has fewer than 3 points'],
  },
  {
    name: 'empty MultiPolygon',
    input: 'MultiPolygon with `coordinates: []`',
    text: list({ type: 'MultiPolygon', coordinates: [] }),
    expected: ['feature 0', 'empty MultiPolygon'],
  },
  {
    name: 'point not a number pair',
    input: 'a point `["1", 2]`',
    text: list({
      type: 'Polygon',
      coordinates: [
        [
          ['1', 2],
          [5, 5],
          [0, 5],
        ],
      ],
    }),
    expected: ['feature 0', 'ring 0 point 0 is not a pair of finite numbers'],
  },
  {
    name: 'classification name not a string',
    input: '`classification: {name: 7}`',
    text: JSON.stringify([
      {
        type: 'Feature',
        geometry: { type: 'Polygon', coordinates: [square] },
        properties: { classification: { name: 7 } },
      },
    ]),
    expected: ['feature 0', 'classification.name is not a string'],
  },
];

describe('bad GeoJSON input', () => {
  it.each(cases)('$name: $input', async (c) => {
    const path = join(dir, `${c.name.replace(/[^a-z0-9]+/gi, '-')}.json`);
    writeFileSync(path, c.text);
    const error = await readQupathGeoJsonFile(path).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error, 'the file was accepted').toBeInstanceOf(Error);
    expect(error!.message.startsWith(`${path}: `), error!.message).toBe(true);
    for (const part of c.expected) expect(error!.message).toContain(part);
  });

  it('a missing file is named', async () => {
    await expect(readQupathGeoJsonFile(join(dir, 'absent.json'))).rejects.toThrow(/absent\.json/);
  });

  it('docs/bad-input.md lists exactly these cases', () => {
    const { inDoc, rendered } = docSection('geojson', cases);
    expect(inDoc, 'run with BAD_INPUT_DOC=write to update the document').toBe(rendered);
  });
});
