import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCsvTable, parseRle, rleDecode } from '@nephron/io';
import { describe, expect, it } from 'vitest';
import { runDice, runIntersection } from './run-dice.js';
import { ScoringError, scoreSubmission } from './score-submission.js';

const unbounded = { width: 1, height: 1000 };
const runs = (text: string) => parseRle(text, unbounded);

describe('Dice from runs', () => {
  it('counts the overlap of two runs by hand: {1..4} and {3..6} share 2 pixels, Dice 0.5', () => {
    expect(runIntersection(runs('1 4'), runs('3 4'))).toBe(2);
    expect(runDice(runs('3 4'), runs('1 4'))).toEqual({
      dice: 0.5,
      predictedPixels: 4,
      truePixels: 4,
      intersection: 2,
    });
  });

  it('handles a run that spans several runs of the other mask: {3..7} vs {2,3,6,7,8} share 3, Dice 0.6', () => {
    const parts = runDice(runs('3 5'), runs('2 2 6 3'));
    expect(parts.intersection).toBe(3);
    expect(parts.dice).toBeCloseTo(0.6, 12);
  });

  it('treats touching runs as the pixels they cover', () => {
    expect(runDice(runs('1 2 3 2'), runs('1 4')).dice).toBe(1);
  });

  it('scores 1 when both masks are empty and 0 when only one is', () => {
    expect(runDice(runs(''), runs('')).dice).toBe(1);
    expect(runDice(runs('5 3'), runs('')).dice).toBe(0);
    expect(runDice(runs(''), runs('5 3')).dice).toBe(0);
  });
});

describe('scoreSubmission', () => {
  const truth = 'id,encoding\na,1 4\nb,\nc,10 2\n';

  it('averages the per-image Dice in the order of the truth', async () => {
    const score = await scoreSubmission('id,predicted\nc,\nb,\na,3 4\n', truth);
    expect(score.images.map((image) => [image.id, image.dice])).toEqual([
      ['a', 0.5],
      ['b', 1],
      ['c', 0],
    ]);
    expect(score.mean).toBeCloseTo(0.5, 12);
  });

  it('names the ids a submission lacks, and ids it should not have', async () => {
    await expect(
      scoreSubmission('id,predicted\na,1 4\n', truth, { predictedName: 'sub.csv', truthName: 'sol.csv' }),
    ).rejects.toThrow('sub.csv: no row for 2 images of sol.csv: b, c');
    await expect(
      scoreSubmission('id,predicted\na,\nb,\nc,\nzz,\n', truth, { predictedName: 'sub.csv' }),
    ).rejects.toThrow('sub.csv: 1 id is not in solution: zz');
  });

  it('rejects an id given twice, naming both lines', async () => {
    await expect(
      scoreSubmission('id,predicted\na,\nb,\na,1 1\nc,\n', truth, { predictedName: 'sub.csv' }),
    ).rejects.toThrow('sub.csv: line 4: id "a" already appeared on line 2');
  });

  it('names the file, line, image and token of a bad encoding', async () => {
    const error = await scoreSubmission('id,predicted\na,1 4\nb,7 x\nc,\n', truth, {
      predictedName: 'sub.csv',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScoringError);
    expect((error as Error).message).toMatch(
      /^sub\.csv: line 3: RLE of image "b": token 2 .*"x".*not a number/,
    );
  });

  it('with image sizes, rejects a run past the end of its image', async () => {
    const sizes = new Map([
      ['a', { width: 2, height: 2 }],
      ['b', { width: 2, height: 2 }],
      ['c', { width: 4, height: 4 }],
    ]);
    await expect(
      scoreSubmission('id,predicted\na,3 4\nb,\nc,\n', truth, { sizes, predictedName: 's' }),
    ).rejects.toThrow(/^s: line 2: RLE of image "a": .*goes past the last pixel 4 of a 2 x 2 mask/);
  });

  it('asks for an encoding column by name', async () => {
    await expect(scoreSubmission('id,rle\na,\n', truth, { predictedName: 'sub.csv' })).rejects.toThrow(
      'sub.csv: no "predicted" or "encoding" column (columns: id,rle)',
    );
  });
});

const vanderbilt = fileURLToPath(new URL('../../../../../shared/data/hubmap-vanderbilt/', import.meta.url));
const haveData = existsSync(vanderbilt);

describe.skipIf(!haveData)('scoring on hubmap-vanderbilt on ../shared/data (skipped when absent)', () => {
  const solution = haveData ? readFileSync(`${vanderbilt}solution.csv`, 'utf8') : '';
  const info = haveData ? parseCsvTable(readFileSync(`${vanderbilt}dataset_information.csv`, 'utf8')) : [];
  const sizes = new Map(
    info.map((r) => [
      r.values.image_file.replace(/\.tiff?$/, ''),
      { width: Number(r.values.width_pixels), height: Number(r.values.height_pixels) },
    ]),
  );

  it('gives the solution a perfect score and an all-empty submission 0', async () => {
    expect((await scoreSubmission(solution, solution, { sizes })).mean).toBe(1);
    const empty = readFileSync(`${vanderbilt}sample_submission.csv`, 'utf8');
    const score = await scoreSubmission(empty, solution, { sizes });
    expect(score.images.map((image) => image.dice)).toEqual([0, 0]);
  });

  it('agrees with Dice counted pixel by pixel on a shrunken prediction', async () => {
    const rows = parseCsvTable(solution);
    const shrunk = rows.map(({ values }) => {
      const size = sizes.get(values.id) as { width: number; height: number };
      const r = parseRle(values.encoding, size);
      const pairs: string[] = [];
      // Trim every run by two pixels at its start and grow every third by one at its end.
      for (let i = 0; i < r.count; i++) {
        const length = r.lengths[i] - 2 + (i % 3 === 0 ? 1 : 0);
        if (length > 0) pairs.push(`${r.starts[i] + 3} ${length}`);
      }
      return `${values.id},${pairs.join(' ')}`;
    });
    const score = await scoreSubmission(`id,predicted\n${shrunk.join('\n')}\n`, solution, { sizes });
    for (const [k, { values }] of rows.entries()) {
      const { width, height } = sizes.get(values.id) as { width: number; height: number };
      const truthMask = rleDecode(values.encoding, width, height);
      const predictedMask = rleDecode(shrunk[k].split(',')[1], width, height);
      let both = 0;
      for (let i = 0; i < truthMask.data.length; i++) both += truthMask.data[i] & predictedMask.data[i];
      const dense = (2 * both) / (truthMask.countOnes() + predictedMask.countOnes());
      expect(score.images[k].intersection).toBe(both);
      expect(score.images[k].dice).toBeCloseTo(dense, 12);
      expect(score.images[k].dice).toBeLessThan(1);
      expect(score.images[k].dice).toBeGreaterThan(0.9);
    }
  });
});
