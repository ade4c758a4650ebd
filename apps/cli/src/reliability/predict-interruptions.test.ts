import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSegmentationModel,
  DEFAULT_TRAIN_CONFIG,
  modelMetadata,
  writeSyntheticDataset,
} from '@nephron/hubmap';
import { writeFileAtomic } from '@nephron/io';
import { manualSeedInit, saveSafetensors } from '@nephron/nn';
import { init } from '@nephron/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt } from '../testing/built-cli.js';
import {
  type CliExit,
  isTemp,
  killSeed,
  killTrials,
  seededRandom,
  startCli,
  watchFolder,
} from './cli-process.js';

/**
 * Issue 8: prediction killed (SIGKILL) and restarted on the same output skips the slides already finished
 * and writes the same submission as a run that was never interrupted. The first trial kills the moment a
 * slide's result is complete; the others at times drawn from a seeded generator over the uninterrupted
 * run's duration (NEPHRON_KILL_TRIALS under `pnpm soak`; 2 in CI).
 */

const LONG = 30 * 60_000;
const trials = killTrials(2);
const random = seededRandom(killSeed(8) + 1);

const root = mkdtempSync(join(tmpdir(), 'nephron-predict-kill-'));
const data = join(root, 'data');
const model = join(root, 'model.safetensors');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const predictArgs = (out: string) => [
  'predict',
  ...['--model', model, '--images', data, '--out', out, '--batch-size', '4'],
];

function failed(exit: CliExit): string {
  return `exit ${exit.code} (signal ${exit.signal}):\n${exit.stderr}\n${exit.stdout}`;
}

let ids: string[] = [];
let submission = '';
let baselineMs = 0;

beforeAll(async () => {
  assertCliBuilt();
  await init();
  const written = await writeSyntheticDataset(data, {
    trainImages: 1,
    testImages: 3,
    width: 192,
    height: 160,
    seed: 9,
    tileSize: 64,
  });
  ids = written.images.filter((image) => image.split === 'test').map((image) => image.id);
  // An untrained model predicts as deterministically as a trained one; its masks are random blobs.
  manualSeedInit(9);
  const config = { ...DEFAULT_TRAIN_CONFIG, encoder: 'efficientnet-b0', downscale: 2, tile: 32 };
  const net = createSegmentationModel(config.encoder, config.classes);
  await writeFileAtomic(
    model,
    await saveSafetensors(net.stateDict(), { metadata: modelMetadata(config, null) }),
  );
  net.dispose();
  const out = join(root, 'baseline.csv');
  const child = startCli(predictArgs(out));
  const exit = await child.exited;
  expect(exit.code, failed(exit)).toBe(0);
  baselineMs = exit.ms;
  submission = readFileSync(out, 'utf8');
}, LONG);

/** The finished slides of a work folder (their .rle marks them done) and when each was written. */
function finishedSlides(slides: string): Map<string, number> {
  const done = new Map<string, number>();
  if (!existsSync(slides)) return done;
  for (const name of readdirSync(slides)) {
    if (name.endsWith('.rle')) done.set(name.slice(0, -4), statSync(join(slides, name)).mtimeMs);
  }
  return done;
}

describe('nephron predict, killed and restarted', () => {
  it('the uninterrupted run predicts every test slide, and some glomeruli', () => {
    const rows = submission.trim().split('\n');
    expect(rows[0]).toBe('id,predicted');
    expect(rows.slice(1).map((row) => row.split(',')[0])).toEqual(ids);
    expect(rows.slice(1).some((row) => row.split(',')[1] !== '')).toBe(true);
  });

  it(
    `SIGKILL ${trials} times (once a slide is done, then at random moments): the restart skips finished slides and writes the same submission`,
    async () => {
      const log: string[] = [];
      let landed = 0;
      let typicalMs = baselineMs;
      // A trial is a SIGKILL that landed; a run that finishes before its kill is checked too, and retried.
      for (let trial = 0; landed < trials && trial < 3 * trials; trial++) {
        const out = join(root, `trial-${trial}.csv`);
        const slides = join(root, `trial-${trial}.slides`, 'slides');
        const child = startCli(predictArgs(out));
        const killAt = trial === 0 ? null : Math.round(random() * typicalMs);
        const stopWatching = watchFolder(slides, (name) => {
          if (killAt === null && name === `${ids[0]}.rle`) child.signal('SIGKILL');
        });
        const timer = killAt === null ? null : setTimeout(() => child.signal('SIGKILL'), killAt);
        const first = await child.exited;
        stopWatching();
        if (timer) clearTimeout(timer);
        const killed = first.signal === 'SIGKILL';
        if (!killed) {
          expect(first.code, failed(first)).toBe(0);
          typicalMs = first.ms;
        }
        if (killed) {
          landed++;
          // No submission until every slide is done: a killed run leaves none, not half of one.
          expect(existsSync(out)).toBe(false);
        }
        const before = finishedSlides(slides);
        if (trial === 0)
          expect(killed && before.has(ids[0]), 'killed right after the first slide').toBe(true);

        const second = await startCli(predictArgs(out)).exited;
        expect(second.code, failed(second)).toBe(0);
        expect(readFileSync(out, 'utf8')).toBe(submission);
        for (const id of ids) {
          const reused = new RegExp(`${id}: .*\\(already done\\)`).test(second.stderr);
          expect(reused, `${id} reused: ${second.stderr}`).toBe(before.has(id));
        }
        // Finished slides are read back, not written again.
        for (const [id, mtime] of before) expect(finishedSlides(slides).get(id)).toBe(mtime);
        const temps = readdirSync(slides).filter(isTemp);
        expect(temps.length).toBeLessThanOrEqual(killed ? 1 : 0);
        log.push(
          `trial ${trial}: ${killAt === null ? 'kill after the first slide' : `kill at ${killAt} ms`} -> ` +
            `${killed ? `killed after ${Math.round(first.ms)} ms` : 'finished first'}, ${before.size} slide(s) done, ${temps.length} temporary file(s) left`,
        );
      }
      console.log(
        `predict kill trials: ${landed} SIGKILLs landed of ${log.length} attempts, uninterrupted run ${Math.round(baselineMs)} ms\n  ${log.join('\n  ')}`,
      );
      expect(landed, log.join('\n')).toBe(trials);
    },
    LONG,
  );
});
