import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCsvTable } from '../csv/csv-table.js';
import { rleDecodeBits } from './rle-decode.js';
import { rleEncode } from './rle-encode.js';

const DATA = fileURLToPath(new URL('../../../../../shared/data/hubmap-vanderbilt/', import.meta.url));
const present = existsSync(DATA);

describe.skipIf(!present)('RLE on the real hubmap-vanderbilt masks (needs ../shared/data)', () => {
  const info = present
    ? parseCsvTable(readFileSync(`${DATA}dataset_information.csv`, 'utf8'), {
        source: 'dataset_information.csv',
      })
    : [];
  const sizes = new Map(
    info.map((r) => [
      r.values.image_file.replace(/\.tiff?$/, ''),
      {
        width: Number(r.values.width_pixels),
        height: Number(r.values.height_pixels),
        fraction: Number(r.values.mask_fraction),
      },
    ]),
  );

  for (const file of ['train.csv', 'solution.csv']) {
    it(`decodes and re-encodes every mask of ${file} exactly`, () => {
      const rows = parseCsvTable(readFileSync(DATA + file, 'utf8'), {
        source: file,
        required: ['id', 'encoding'],
      });
      expect(rows.length).toBeGreaterThan(0);
      for (const { values } of rows) {
        const size = sizes.get(values.id);
        expect(size, `${values.id} in dataset_information.csv`).toBeDefined();
        const { width, height, fraction } = size!;
        const mask = rleDecodeBits(values.encoding, width, height, values.id);
        expect(rleEncode(mask)).toBe(values.encoding.trim());
        // The mask fraction recorded when the data set was built confirms the pixel order and size.
        expect(mask.countOnes() / (width * height)).toBeCloseTo(fraction, 4);
      }
    });
  }
});
