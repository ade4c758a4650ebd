import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, pngSize, runBuiltCli, sharedData } from '../testing/built-cli.js';

const LONG = 15 * 60_000;
const vanderbilt = join(sharedData, 'hubmap-vanderbilt');

beforeAll(() => {
  assertCliBuilt();
});

function ok(args: string[]) {
  const result = runBuiltCli(args, {}, LONG);
  if (result.code !== 0)
    throw new Error(`nephron ${args.join(' ')} exited ${result.code}:\n${result.stderr}\n${result.stdout}`);
  return result;
}

describe('the pipeline end to end', () => {
  it(
    'demo: generates data, trains, predicts, scores and reports (a tiny setting)',
    () => {
      const out = join(mkdtempSync(join(tmpdir(), 'nephron-demo-')), 'demo');
      const result = ok(['demo', '--out', out, '--epochs', '1', '--steps-per-epoch', '1', '--json']);
      const summary = JSON.parse(result.stdout);
      expect(summary.score.images).toHaveLength(2);
      expect(summary.score.mean).toBeGreaterThanOrEqual(0);
      expect(summary.emptyScore).toBe(0);
      for (const file of [
        'submission.csv',
        'score.json',
        'report.html',
        'run/model.safetensors',
        'run/last.safetensors',
      ]) {
        expect(existsSync(join(out, file)), file).toBe(true);
      }
      const report = readFileSync(join(out, 'report.html'), 'utf8');
      expect(report).toContain('<svg');
      expect(report).toContain('data:image/png;base64,');
    },
    LONG,
  );

  it.runIf(existsSync(vanderbilt))(
    'real data: trains a few steps on the Vanderbilt slides, predicts both test slides, scores, resumes and shards',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'nephron-real-'));
      const run = join(dir, 'run');
      // A few steps of B0 on 64-px tiles at 1/16 scale: enough to exercise every stage, cheap enough for CI.
      const train = (epochs: number, ...extra: string[]) =>
        ok([
          'train',
          '--data',
          vanderbilt,
          '--out',
          run,
          '--encoder',
          'efficientnet-b0',
          '--epochs',
          String(epochs),
          '--steps-per-epoch',
          '2',
          '--batch-size',
          '2',
          '--tile',
          '64',
          '--downscale',
          '16',
          '--random-tiles',
          '2',
          '--validation',
          'a56d29a42',
          '--quiet',
          ...extra,
        ]);
      train(1);
      const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(metrics).toHaveLength(1);
      expect(Number.isFinite(metrics[0].trainLoss)).toBe(true);
      expect(metrics[0].validationDice).toBeGreaterThanOrEqual(0);
      // train's own report: the curves and the validation slide on real tissue.
      const report = readFileSync(join(run, 'report.html'), 'utf8');
      expect(report).toContain('Validation Dice');
      expect(report).toContain('data:image/png;base64,');

      const submission = join(dir, 'submission.csv');
      const args = [
        'predict',
        '--model',
        join(run, 'model.safetensors'),
        '--images',
        vanderbilt,
        '--batch-size',
        '8',
      ];
      ok([...args, '--out', submission]);
      const rows = readFileSync(submission, 'utf8').trim().split('\n');
      expect(rows[0]).toBe('id,predicted');
      expect(rows).toHaveLength(3);
      const scored = JSON.parse(
        ok(['score', '--pred', submission, '--truth', join(vanderbilt, 'solution.csv'), '--json']).stdout,
      );
      expect(scored.images).toHaveLength(2);

      // One tile through the model: probabilities in [0, 1] and a PNG of the tile's size.
      const probabilities = join(dir, 'p.png');
      const fwd = JSON.parse(
        ok([
          'forward',
          '--weights',
          join(run, 'model.safetensors'),
          '--image',
          join(vanderbilt, 'test', 'fb907bb18.tiff'),
          '--x',
          '1024',
          '--y',
          '512',
          '--out',
          probabilities,
          '--json',
        ]).stdout,
      );
      expect(fwd.tile).toBe(64);
      expect(fwd.mean).toBeGreaterThanOrEqual(0);
      expect(fwd.max).toBeLessThanOrEqual(1);
      expect(pngSize(readFileSync(probabilities))).toEqual({ width: 64, height: 64 });

      // Run again on the same output: every slide is already done and the submission is the same.
      const again = runBuiltCli([...args, '--out', submission], {}, LONG);
      expect(again.stderr).toContain('already done');
      expect(readFileSync(submission, 'utf8').trim().split('\n')).toEqual(rows);

      // Two shards merged give the same submission.
      const parts = [0, 1].map((i) => join(dir, `part-${i}.csv`));
      for (const [i, part] of parts.entries()) {
        ok([...args, '--out', part, '--work', join(dir, `work-${i}`), '--shard', `${i}/2`]);
      }
      const merged = join(dir, 'merged.csv');
      ok(['merge', ...parts, '--order', join(vanderbilt, 'sample_submission.csv'), '--out', merged]);
      expect(readFileSync(merged, 'utf8').trim().split('\n')).toEqual(rows);

      // The run resumes from last.safetensors for a second epoch.
      train(2, '--resume');
      expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    },
    LONG,
  );

  it('usage mistakes exit 2 with a message naming the option', () => {
    const result = runBuiltCli(['train', '--data', 'x', '--out', 'y', '--tile', '100']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--tile must be a multiple of 32');
  });
});
