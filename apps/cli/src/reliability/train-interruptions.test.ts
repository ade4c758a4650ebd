import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EpochMetrics, type StepRecord, writeSyntheticDataset } from '@nephron/hubmap';
import { init } from '@nephron/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt } from '../testing/built-cli.js';
import {
  type CliExit,
  isTempOf,
  killSeed,
  killTrials,
  seededRandom,
  startCli,
  watchFolder,
} from './cli-process.js';
import { jsonLines, readRunState } from './run-state.js';

/**
 * Issue 8's interruption guarantees for `nephron train`, through the built binary: a run stopped by Ctrl-C
 * (SIGINT) or killed with SIGKILL at any moment, checkpoint writes included, always leaves a loadable
 * last.safetensors (or none yet), and `--resume` finishes it with exactly the per-step losses, metrics and
 * final weights of a run that was never interrupted.
 *
 * One chain of processes on one run folder: SIGINT once a checkpoint exists; then SIGKILL the moment a
 * checkpoint's temporary file appears (retried until a kill lands mid-write); then SIGKILLs at times drawn
 * from a seeded generator over the uninterrupted run's duration; then `--resume` to the end. When a
 * process finishes before its kill, the chain's result is checked and a fresh chain starts. CI runs 3
 * SIGKILLs; `pnpm soak` runs NEPHRON_KILL_TRIALS (20 unless set), with NEPHRON_KILL_SEED to replay.
 */

const LONG = 3 * 60 * 60_000;
const trials = killTrials(3);
const random = seededRandom(killSeed(8));

const root = mkdtempSync(join(tmpdir(), 'nephron-kill-'));
const data = join(root, 'data');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function trainArgs(out: string): string[] {
  // With --checkpoint-every 1 a checkpoint is written after every step: many chances to be killed mid-write.
  return [
    'train',
    ...['--data', data, '--out', out, '--encoder', 'efficientnet-b0', '--tile', '32'],
    ...['--batch-size', '2', '--downscale', '2', '--steps-per-epoch', '3', '--epochs', '2'],
    ...['--checkpoint-every', '1', '--quiet'],
  ];
}

interface Finished {
  steps: StepRecord[];
  metrics: Omit<EpochMetrics, 'seconds'>[];
  /** SHA-256 of the final files: the same bytes, weights, optimizer state and random state included. */
  model: string;
  last: string;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** What a finished run leaves, minus the wall-clock seconds. */
function finished(run: string): Finished {
  return {
    steps: jsonLines<StepRecord>(join(run, 'steps.jsonl')),
    metrics: jsonLines<EpochMetrics>(join(run, 'metrics.jsonl')).map(({ seconds: _, ...m }) => m),
    model: sha256(join(run, 'model.safetensors')),
    last: sha256(join(run, 'last.safetensors')),
  };
}

function failed(exit: CliExit): string {
  return `exit ${exit.code} (signal ${exit.signal}):\n${exit.stderr}\n${exit.stdout}`;
}

type Interruption =
  | { kind: 'sigint' }
  | { kind: 'kill-in-write'; nth: number }
  | { kind: 'kill-at'; ms: number }
  | { kind: 'none' };

interface Outcome {
  exit: CliExit;
  killed: boolean;
  /** The temporary checkpoint file a kill-in-write left, when the kill landed before its rename. */
  midWrite: string | null;
}

/** Starts train on `run` (with --resume when a checkpoint exists) and interrupts it as planned. */
async function trainOnce(run: string, plan: Interruption): Promise<Outcome> {
  const resume = existsSync(join(run, 'last.safetensors'));
  const child = startCli([...trainArgs(run), ...(resume ? ['--resume'] : [])]);
  let killedAt: string | null = null;
  let interrupted = false;
  const seen = new Set<string>();
  const stopWatching = watchFolder(run, (name, event) => {
    // One Ctrl-C: a second one kills, as in a terminal.
    if (plan.kind === 'sigint' && event === 'rename' && name === 'last.safetensors' && !interrupted)
      interrupted = child.signal('SIGINT');
    if (plan.kind !== 'kill-in-write' || killedAt) return;
    // A writer that wrote last.safetensors in place would be caught in the act at once.
    if (event === 'change' && name === 'last.safetensors' && child.signal('SIGKILL')) killedAt = name;
    // The temporary file's creation and its rename both report its name; count each file once.
    if (isTempOf(name, 'last.safetensors') && !seen.has(name)) {
      seen.add(name);
      if (seen.size === plan.nth && child.signal('SIGKILL')) killedAt = name;
    }
  });
  const timer = plan.kind === 'kill-at' ? setTimeout(() => child.signal('SIGKILL'), plan.ms) : null;
  const exit = await child.exited;
  stopWatching();
  if (timer) clearTimeout(timer);
  const killed = exit.signal === 'SIGKILL';
  if (!killed && exit.code !== 0 && !(plan.kind === 'sigint' && exit.code === 1))
    throw new Error(`nephron train ${failed(exit)}`);
  return { exit, killed, midWrite: killedAt && existsSync(join(run, killedAt)) ? killedAt : null };
}

let baseline: Finished;
let baselineMs = 0;

beforeAll(async () => {
  assertCliBuilt();
  await init();
  await writeSyntheticDataset(data, {
    trainImages: 3,
    testImages: 0,
    width: 192,
    height: 160,
    seed: 8,
    tileSize: 64,
  });
  const run = join(root, 'baseline');
  const outcome = await trainOnce(run, { kind: 'none' });
  expect(outcome.exit.code, failed(outcome.exit)).toBe(0);
  baselineMs = outcome.exit.ms;
  baseline = finished(run);
}, LONG);

/**
 * Checks the folder a process left: the checkpoint loads, never goes back, and the steps it covers are the
 * uninterrupted run's; temporaries are at most one per kill, and nothing else is there.
 */
function checkLeftovers(run: string, previousStep: number, kills: number): number {
  const state = readRunState(run);
  const globalStep = state.progress?.globalStep ?? 0;
  expect(globalStep).toBeGreaterThanOrEqual(previousStep);
  // steps.jsonl is written just before the checkpoint, so it covers at least the checkpoint's steps.
  expect(
    state.steps.slice(0, globalStep),
    "the checkpointed steps are the uninterrupted run's (a difference before any resume means the build " +
      'changed during the test, or training is not reproducible across processes)',
  ).toEqual(baseline.steps.slice(0, globalStep));
  expect(state.temps.length).toBeLessThanOrEqual(kills);
  expect(state.others).toEqual([]);
  return globalStep;
}

describe('nephron train, interrupted', () => {
  const run = join(root, 'chain-0');

  it('the uninterrupted run takes 6 steps, with finite losses', () => {
    expect(baseline.steps.map((s) => s.globalStep)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(baseline.steps.every((s) => Number.isFinite(s.loss))).toBe(true);
    expect(baseline.metrics).toHaveLength(2);
  });

  it(
    'SIGINT stops after the step, writes last.safetensors, exits 1 and says how to resume',
    async () => {
      const { exit, killed } = await trainOnce(run, { kind: 'sigint' });
      expect(killed).toBe(false);
      expect(exit.code, failed(exit)).toBe(1);
      expect(exit.stderr).toContain('interrupted: finishing the step and writing last.safetensors');
      expect(exit.stderr).toContain(`${run}/last.safetensors holds the run`);
      expect(exit.stderr).toContain('Run the same command with --resume to continue.');
      const state = readRunState(run);
      // Stopped after the step that wrote the first checkpoint, or the next one: before the end.
      expect(state.progress?.globalStep).toBeGreaterThanOrEqual(1);
      expect(state.progress?.globalStep).toBeLessThan(6);
      expect(state.temps).toEqual([]);
      checkLeftovers(run, 1, 0);
    },
    LONG,
  );

  it(
    `SIGKILL ${trials} times (mid-checkpoint-write and at random moments): every checkpoint loads, --resume finishes with the uninterrupted losses`,
    async () => {
      expect(readRunState(run).progress, 'the SIGINT test leaves a checkpoint to resume').not.toBeNull();
      const log: string[] = [];
      let chain = 0;
      let folder = run;
      let kills = 0;
      let killsInChain = 0;
      let midWrites = 0;
      let attempts = 0;
      // Kill times are drawn over the last run that went to its end: the load on the machine changes.
      let typicalMs = baselineMs;
      let step = readRunState(run).progress?.globalStep ?? 0;
      const endChain = () => {
        expect(finished(folder)).toEqual(baseline);
        // The run that finished cleared the temporaries its killed predecessors left.
        expect(readRunState(folder).temps).toEqual([]);
        log.push(`chain ${chain}: finished, identical to the uninterrupted run`);
        chain++;
        folder = join(root, `chain-${chain}`);
        killsInChain = 0;
        step = 0;
      };
      // A trial is a SIGKILL that landed; a process that finishes before its kill ends the chain.
      while (kills < trials && attempts < 3 * trials) {
        attempts++;
        // The first trial, and any until one lands mid-write, kill as a checkpoint's temporary file appears.
        const plan: Interruption =
          midWrites === 0 || random() < 1 / 3
            ? { kind: 'kill-in-write', nth: 1 + Math.floor(random() * 3) }
            : { kind: 'kill-at', ms: Math.round(random() * typicalMs) };
        const outcome = await trainOnce(folder, plan);
        if (outcome.killed) {
          kills++;
          killsInChain++;
          if (outcome.midWrite) midWrites++;
        }
        step = checkLeftovers(folder, step, killsInChain);
        log.push(
          `attempt ${attempts}: ${JSON.stringify(plan)} -> ${outcome.killed ? 'killed' : 'finished first'} after ${Math.round(outcome.exit.ms)} ms` +
            `${outcome.midWrite ? ' mid-write' : ''}; checkpoint at step ${step}`,
        );
        if (!outcome.killed) {
          typicalMs = outcome.exit.ms;
          endChain();
        }
      }
      if (step > 0 || killsInChain > 0) {
        const outcome = await trainOnce(folder, { kind: 'none' });
        expect(outcome.exit.code, failed(outcome.exit)).toBe(0);
        checkLeftovers(folder, step, killsInChain);
        endChain();
      }
      console.log(
        `kill trials: ${kills} SIGKILLs landed of ${attempts} attempts (${midWrites} mid-checkpoint-write), chains: ${chain}, uninterrupted run ${Math.round(baselineMs)} ms\n  ${log.join('\n  ')}`,
      );
      expect(kills, log.join('\n')).toBe(trials);
      expect(midWrites).toBeGreaterThan(0);
    },
    LONG,
  );
});
