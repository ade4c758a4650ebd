import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BadInputRow, docSection } from '../../../../docs/bad-input-table.js';
import { tinyTiff } from '../../../io/src/fuzz/tiny-tiff.js';
import { DatasetError, loadDataset } from './load-dataset.js';

/**
 * Kaggle-layout folders with one thing wrong each, built in temporary folders from tiny TIFFs. The loader
 * must list the problem naming the file (and line and image id), and accept the unusual-but-valid slides
 * (grey, RGBA, 16-bit, smaller than a tile, an empty test folder).
 */

type Files = Record<string, string | Uint8Array>;

interface DatasetCase extends BadInputRow {
  /** Changes to the good folder: a file's new content, or null to delete it. */
  change: Record<string, string | Uint8Array | null>;
  /** For accepted folders: [train count, test count]. */
  counts?: [number, number];
}

const root = mkdtempSync(join(tmpdir(), 'nephron-bad-dataset-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Two 40 x 30 training slides (1200 pixels each) and one test slide. */
const slide = () => tinyTiff([{ width: 40, height: 30, samples: 3 }]).bytes;
const good = (): Files => ({
  'train.csv': 'id,encoding\naaa,1 5 100 10\nbbb,\n',
  'train/aaa.tiff': slide(),
  'train/bbb.tiff': slide(),
  'test/ccc.tiff': slide(),
  'sample_submission.csv': 'id,predicted\nccc,\n',
  'dataset_information.csv':
    'image_file,width_pixels,height_pixels\naaa.tiff,40,30\nbbb.tiff,40,30\nccc.tiff,40,30\n',
});
const rle = (encoding: string) => ({ 'train.csv': `id,encoding\naaa,${encoding}\nbbb,\n` });

const cases: DatasetCase[] = [
  {
    name: 'no train.csv',
    input: 'train.csv deleted',
    change: { 'train.csv': null },
    expected: ['train.csv is missing'],
  },
  {
    name: 'train.csv missing a column',
    input: 'header `id,rle`',
    change: { 'train.csv': 'id,rle\naaa,1 5\n' },
    expected: ['train.csv: line 1: missing column "encoding" (header: id,rle)'],
  },
  {
    name: 'train.csv unknown id',
    input: 'a row for "zzz", which has no TIFF',
    change: { 'train.csv': 'id,encoding\naaa,1 5\nbbb,\nzzz,1 2\n' },
    expected: ['train.csv line 4: image "zzz" has no train/zzz.tiff'],
  },
  {
    name: 'train.csv repeated id',
    input: '"aaa" on lines 2 and 4',
    change: { 'train.csv': 'id,encoding\naaa,1 5\nbbb,\naaa,1 5\n' },
    expected: ['train.csv line 4: image "aaa" is already listed on line 2'],
  },
  {
    name: 'RLE odd token count',
    input: '`1 5 100`',
    change: rle('1 5 100'),
    expected: [
      'train.csv line 2: RLE of image "aaa": token 3 at character 5 ("100")',
      'odd number of tokens',
    ],
  },
  {
    name: 'RLE not a number',
    input: '`1 5 x7 2`',
    change: rle('1 5 x7 2'),
    expected: ['train.csv line 2', 'image "aaa": token 3 at character 5 ("x7"): not a number'],
  },
  {
    name: 'RLE decimal',
    input: '`1 5.5`',
    change: rle('1 5.5'),
    expected: ['train.csv line 2', 'image "aaa": token 2', 'not a number; expected a decimal integer'],
  },
  {
    name: 'RLE sign',
    input: '`+1 5`',
    change: rle('+1 5'),
    expected: ['train.csv line 2', 'token 1', 'a sign is not allowed'],
  },
  {
    name: 'RLE negative length',
    input: '`1 -5`',
    change: rle('1 -5'),
    expected: ['train.csv line 2', 'token 2', 'length must be a positive integer'],
  },
  {
    name: 'RLE start 0',
    input: '`0 5`',
    change: rle('0 5'),
    expected: ['train.csv line 2', 'token 1', 'start must be at least 1'],
  },
  {
    name: 'RLE length 0',
    input: '`1 0`',
    change: rle('1 0'),
    expected: ['train.csv line 2', 'token 2', 'length must be a positive integer'],
  },
  {
    name: 'RLE runs overlap',
    input: '`1 10 5 2`',
    change: rle('1 10 5 2'),
    expected: [
      'train.csv line 2',
      'token 3',
      'runs overlap: this start is inside the previous run, which ends at pixel 10',
    ],
  },
  {
    name: 'RLE runs unsorted',
    input: '`100 2 1 2`',
    change: rle('100 2 1 2'),
    expected: [
      'train.csv line 2',
      'token 3',
      "runs are not sorted: this start is before the previous run's start 100",
    ],
  },
  {
    name: 'mask larger than its image (start)',
    input: '`1201 1` for a 40 x 30 slide',
    change: rle('1201 1'),
    expected: ['train.csv line 2', 'token 1', 'start is past the last pixel 1200 of a 40 x 30 mask'],
  },
  {
    name: 'mask larger than its image (run)',
    input: '`1190 20` for a 40 x 30 slide',
    change: rle('1190 20'),
    expected: [
      'train.csv line 2',
      'token 2',
      'run 1190..1209 goes past the last pixel 1200 of a 40 x 30 mask',
    ],
  },
  {
    name: 'unreadable training TIFF',
    input: 'train/aaa.tiff cut to 100 bytes',
    change: { 'train/aaa.tiff': slide().slice(0, 100) },
    expected: ['image "aaa"', 'train/aaa.tiff: not a readable TIFF'],
  },
  {
    name: 'size disagrees with dataset_information.csv',
    input: 'information says 41 x 30',
    change: {
      'dataset_information.csv':
        'image_file,width_pixels,height_pixels\naaa.tiff,41,30\nbbb.tiff,40,30\nccc.tiff,40,30\n',
    },
    expected: ['train/aaa.tiff is 40 x 30 pixels, but dataset_information.csv line 2 says 41 x 30'],
  },
  {
    name: 'bad dataset_information.csv',
    input: 'width "wide"',
    change: { 'dataset_information.csv': 'image_file,width_pixels,height_pixels\naaa.tiff,wide,30\n' },
    expected: ['dataset_information.csv: line 2: width_pixels "wide" is not a positive integer'],
  },
  {
    name: 'GeoJSON not JSON',
    input: 'train/aaa.json is `[{`',
    change: { 'train/aaa.json': '[{' },
    expected: ['train/aaa.json: not valid JSON'],
  },
  {
    name: 'GeoJSON not features',
    input: 'train/aaa.json is `{"a": 1}`',
    change: { 'train/aaa.json': '{"a": 1}' },
    expected: ['train/aaa.json: neither a list of GeoJSON features nor a FeatureCollection'],
  },
  {
    name: 'submission lists a missing test image',
    input: 'test/ emptied, sample_submission.csv still lists "ccc"',
    change: { 'test/ccc.tiff': null },
    expected: ['sample_submission.csv line 2: image "ccc" has no test/ccc.tiff'],
  },
  {
    name: 'empty test folder',
    input: 'test/ empty, sample_submission.csv with only its header',
    change: { 'test/ccc.tiff': null, 'sample_submission.csv': 'id,predicted\n' },
    expected: [],
    counts: [2, 0],
  },
  {
    name: 'grey, RGBA and 16-bit slides',
    input: 'aaa grey 8-bit, bbb RGBA, ccc grey 16-bit',
    change: {
      'train/aaa.tiff': tinyTiff([{ width: 40, height: 30 }]).bytes,
      'train/bbb.tiff': tinyTiff([{ width: 40, height: 30, samples: 4 }]).bytes,
      'test/ccc.tiff': tinyTiff([{ width: 40, height: 30, bits: 16 }]).bytes,
    },
    expected: [],
    counts: [2, 1],
  },
];

function build(name: string, change: DatasetCase['change']): string {
  const dir = join(root, name.replace(/[^a-z0-9]+/gi, '-'));
  mkdirSync(join(dir, 'train'), { recursive: true });
  mkdirSync(join(dir, 'test'));
  const files: Record<string, string | Uint8Array | null> = { ...good(), ...change };
  for (const [path, content] of Object.entries(files))
    if (content !== null) writeFileSync(join(dir, path), content);
  return dir;
}

describe('bad dataset folders', () => {
  it.each(cases)('$name: $input', async (c) => {
    const dir = build(c.name, c.change);
    const result = await loadDataset(dir).then(
      (dataset) => dataset,
      (e: Error) => e,
    );
    if (c.expected.length === 0) {
      expect(result).not.toBeInstanceOf(Error);
      const dataset = result as Awaited<ReturnType<typeof loadDataset>>;
      expect([dataset.train.length, dataset.test.length]).toEqual(c.counts);
      return;
    }
    expect(result, 'the folder was accepted').toBeInstanceOf(DatasetError);
    const error = result as DatasetError;
    expect(error.message.startsWith(`${dir}: the dataset has a problem:`), error.message).toBe(true);
    expect(error.problems).toHaveLength(1);
    for (const part of c.expected) expect(error.problems[0]).toContain(part);
  });

  it('docs/bad-input.md lists exactly these cases', () => {
    const { inDoc, rendered } = docSection('dataset', cases);
    expect(inDoc, 'run with BAD_INPUT_DOC=write to update the document').toBe(rendered);
  });
});
