import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsvTable } from '@nephron/io';
import { afterAll, describe, expect, it } from 'vitest';
import { kFoldSplit } from './folds.js';
import { DatasetError, loadDataset } from './load-dataset.js';

const vanderbilt = fileURLToPath(new URL('../../../../../shared/data/hubmap-vanderbilt/', import.meta.url));
const haveData = existsSync(vanderbilt);

describe('kFoldSplit', () => {
  const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

  it('puts every image in exactly one validation fold, with fold sizes differing by at most one', () => {
    const folds = kFoldSplit(ids, 3, 1);
    expect(folds.flatMap((f) => f.valid).sort()).toEqual(ids);
    expect(folds.map((f) => f.valid.length).sort()).toEqual([2, 2, 3]);
    for (const fold of folds) {
      expect([...fold.train, ...fold.valid].sort()).toEqual(ids);
      expect(fold.train.filter((id) => fold.valid.includes(id))).toEqual([]);
    }
  });

  it('depends on the seed and the set of ids, not on their order', () => {
    expect(kFoldSplit([...ids].reverse(), 3, 1)).toEqual(kFoldSplit(ids, 3, 1));
    const splits = new Set([1, 2, 3, 4, 5].map((seed) => JSON.stringify(kFoldSplit(ids, 3, seed))));
    expect(splits.size).toBeGreaterThan(1);
  });

  it('rejects impossible fold counts and repeated ids', () => {
    expect(() => kFoldSplit(ids, 1, 0)).toThrow(
      'k must be an integer from 2 to the number of images (7), got 1',
    );
    expect(() => kFoldSplit(ids, 8, 0)).toThrow(RangeError);
    expect(() => kFoldSplit(['a', 'a', 'b'], 2, 0)).toThrow('distinct');
  });
});

describe.skipIf(!haveData)('loadDataset on hubmap-vanderbilt on ../shared/data (skipped when absent)', () => {
  const temps: string[] = [];
  afterAll(() => {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });
  const info = haveData
    ? parseCsvTable(readFileSync(join(vanderbilt, 'dataset_information.csv'), 'utf8'))
    : [];
  const train = haveData ? parseCsvTable(readFileSync(join(vanderbilt, 'train.csv'), 'utf8')) : [];

  it('reads the real dataset: 8 training slides with masks and polygons, 2 test slides in submission order', async () => {
    const dataset = await loadDataset(vanderbilt);
    expect(dataset.train.map((image) => image.id)).toEqual(train.map((r) => r.values.id));
    expect(dataset.test.map((image) => image.id)).toEqual(['fb907bb18', '09d875b7d']);
    expect(dataset.information).toBe('dataset_information.csv');
    for (const image of [...dataset.train, ...dataset.test]) {
      const row = info.find((r) => r.values.image_file === `${image.id}.tiff`);
      expect([image.width, image.height]).toEqual([
        Number(row?.values.width_pixels),
        Number(row?.values.height_pixels),
      ]);
      expect(image.image).toBe(`${image.split}/${image.id}.tiff`);
      expect(image.glomeruli).toBe(`${image.split}/${image.id}.json`);
      expect(image.anatomy).toBeUndefined();
    }
    expect(dataset.train[0].encoding).toBe(train[0].values.encoding);
    expect(dataset.warnings).toEqual([]);
  });

  /** A dataset folder made of links to the real slides and edited CSVs. */
  function brokenCopy(): string {
    const dir = mkdtempSync(join(tmpdir(), 'nephron-dataset-'));
    temps.push(dir);
    mkdirSync(join(dir, 'train'));
    mkdirSync(join(dir, 'test'));
    return dir;
  }

  it('names the file and image of every problem: missing slide, unreadable TIFF, wrong size, RLE past the end', async () => {
    const dir = brokenCopy();
    const [a, b, c] = train.slice(0, 3).map((r) => r.values);
    for (const row of [a, b, c])
      symlinkSync(join(vanderbilt, 'train', `${row.id}.tiff`), join(dir, 'train', `${row.id}.tiff`));
    writeFileSync(join(dir, 'train', 'deadbeef1.tiff'), 'this is not a TIFF at all');
    const sizeOf = (id: string) =>
      info.find((r) => r.values.image_file === `${id}.tiff`)?.values as Record<string, string>;
    const last = Number(sizeOf(b.id).width_pixels) * Number(sizeOf(b.id).height_pixels);
    writeFileSync(
      join(dir, 'train.csv'),
      [
        'id,encoding',
        `${a.id},${a.encoding}`,
        `${b.id},${b.encoding} ${last - 1} 5`,
        `${c.id},${c.encoding}`,
        'deadbeef1,1 1',
        'cafe00000,1 1',
        '',
      ].join('\n'),
    );
    const infoText = readFileSync(join(vanderbilt, 'dataset_information.csv'), 'utf8').replace(
      `${c.id}.tiff,${sizeOf(c.id).width_pixels},`,
      `${c.id}.tiff,${Number(sizeOf(c.id).width_pixels) + 1},`,
    );
    writeFileSync(join(dir, 'dataset_information.csv'), infoText);

    const error = await loadDataset(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    const problems = (error as DatasetError).problems;
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(
      new RegExp(
        `^train\\.csv line 3: RLE of image "${b.id}": token \\d+ .*goes past the last pixel ${last} of a`,
      ),
    );
    expect(problems[1]).toBe(
      `train/${c.id}.tiff is ${sizeOf(c.id).width_pixels} x ${sizeOf(c.id).height_pixels} pixels, but dataset_information.csv line ${
        info.findIndex((r) => r.values.image_file === `${c.id}.tiff`) + 2
      } says ${Number(sizeOf(c.id).width_pixels) + 1} x ${sizeOf(c.id).height_pixels}`,
    );
    expect(problems[2]).toMatch(/^image "deadbeef1": .*train\/deadbeef1\.tiff: not a readable TIFF/);
    expect(problems[3]).toBe('train.csv line 6: image "cafe00000" has no train/cafe00000.tiff');
    expect((error as Error).message).toMatch(/: the dataset has 4 problems:\n {2}- train\.csv line 3/);
  });

  it('checks the sample submission against the test slides and the annotation files for JSON', async () => {
    const dir = brokenCopy();
    const a = train[0].values;
    symlinkSync(join(vanderbilt, 'train', `${a.id}.tiff`), join(dir, 'train', `${a.id}.tiff`));
    writeFileSync(join(dir, 'train', `${a.id}.json`), '[{"type": "Feature"');
    writeFileSync(join(dir, 'train', `${a.id}-anatomical-structure.json`), '{"type": "Feature"}');
    writeFileSync(join(dir, 'train.csv'), `id,encoding\n${a.id},${a.encoding}\n`);
    symlinkSync(join(vanderbilt, 'test', 'fb907bb18.tiff'), join(dir, 'test', 'fb907bb18.tiff'));
    writeFileSync(join(dir, 'sample_submission.csv'), 'id,predicted\n09d875b7d,\n');
    const error = await loadDataset(dir).catch((e: unknown) => e);
    expect((error as DatasetError).problems).toEqual([
      expect.stringMatching(new RegExp(`^train/${a.id}\\.json: not valid JSON`)),
      `train/${a.id}-anatomical-structure.json: neither a list of GeoJSON features nor a FeatureCollection`,
      'sample_submission.csv line 2: image "09d875b7d" has no test/09d875b7d.tiff',
    ]);
  });

  it('reports a folder without train.csv, and one that does not exist', async () => {
    const dir = brokenCopy();
    await expect(loadDataset(dir)).rejects.toThrow('train.csv is missing');
    await expect(loadDataset(join(dir, 'nothing-here'))).rejects.toThrow(
      'nothing-here: the dataset has a problem:\n  - the folder does not exist',
    );
  });
});
