import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readMaskPng } from '../png/mask-png-file.js';
import { formatRleCheckReport } from './rle-check.js';
import { readRleFromCsv, rleCheckFiles, rleDecodeToPng, rleEncodeFromPng } from './rle-commands.js';

const DATA = fileURLToPath(new URL('../../../../../shared/data/hubmap-vanderbilt/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nephron-rle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rle command helpers', () => {
  it('checks a table and reports each bad row with its line and reason', async () => {
    const csv = join(dir, 'sub.csv');
    const info = join(dir, 'info.csv');
    writeFileSync(info, 'image_file,width_pixels,height_pixels\na.tiff,4,3\nb.tiff,4,3\nc.tiff,2,2\n');
    writeFileSync(csv, 'id,predicted\na,1 2 5 3\nb,1 2 3\nz,1 1\na,\n');
    const report = await rleCheckFiles({ csv, info });
    expect(report.ok).toBe(false);
    expect(report.rows.map((r) => [r.id, r.line, r.ok, r.pixels])).toEqual([
      ['a', 2, true, 5],
      ['b', 3, false, 0],
      ['z', 4, false, 0],
      ['a', 5, false, 0],
    ]);
    expect(report.rows[1].error).toMatch(/RLE of image "b": token 3 .*odd number of tokens/);
    expect(report.rows[2].error).toBe('image "z" is not in the size table');
    expect(report.missing).toEqual(['c']);
    expect(formatRleCheckReport(report)).toMatch(/1 of 4 rows valid\nno row for: c$/);
  });

  it('decodes a row to PNG and encodes the PNG back to the same text', async () => {
    const csv = join(dir, 'train.csv');
    writeFileSync(csv, 'id,encoding\nx,2 3 9 2\n');
    const out = join(dir, 'x.png');
    expect(await rleDecodeToPng({ csv, id: 'x', width: 4, height: 3, out })).toEqual({ pixels: 5 });
    expect((await readMaskPng(out)).countOnes()).toBe(5);
    expect([...(await rleEncodeFromPng(out))].join('')).toBe('2 3 9 2');
    await expect(readRleFromCsv(csv, 'nope')).rejects.toThrow(`${csv}: no row with id "nope"`);
  });

  it.skipIf(!existsSync(DATA))(
    'finds every row of the real train.csv valid (needs ../shared/data)',
    async () => {
      const report = await rleCheckFiles({ csv: `${DATA}train.csv`, info: `${DATA}dataset_information.csv` });
      expect(report.rows.length).toBe(8);
      expect(report.ok).toBe(true);
      // The two test images are in the size table but not in train.csv.
      expect(report.missing.sort()).toEqual(['09d875b7d', 'fb907bb18']);
    },
  );
});
