import { getEngine } from '@nephron/tensor';

export interface Timing {
  /** Median milliseconds of one run. */
  ms: number;
  runs: number;
}

/**
 * Times `run` (which records GPU work) end to end: each run is followed by a full GPU sync, after one warm-up run
 * that also compiles the pipelines. Runs repeat until `minMs` of samples exist (at least 3) and the median is kept,
 * so one stall of a busy machine does not set the figure.
 */
export async function timeGpu(
  run: () => void | Promise<void>,
  sync: () => Promise<void>,
  minMs = 1000,
): Promise<Timing> {
  const { medians, runs } = await timeInTurn(
    [
      async () => {
        await run();
        await sync();
      },
    ],
    minMs,
  );
  return { ms: medians[0], runs };
}

export const syncOurs = () => getEngine().sync();

/**
 * Times two runners (each records its GPU work and waits for it) in alternation, one run of each in turn, and
 * returns both medians in ms. On a shared machine the load then falls on both sides alike, so their ratio is
 * steadier than that of two figures taken one after the other.
 */
export async function timeAlternating(
  a: () => Promise<void>,
  b: () => Promise<void>,
  minMs = 1000,
): Promise<[number, number]> {
  const { medians } = await timeInTurn([a, b], minMs);
  return [medians[0], medians[1]];
}

/**
 * Runs each runner once to warm up (and compile), then one run of each in turn until every runner has 3 samples
 * and `minMs` has passed for each, at most 50 each; returns each runner's median ms and the samples per runner.
 */
async function timeInTurn(
  runners: readonly (() => Promise<void>)[],
  minMs: number,
): Promise<{ medians: number[]; runs: number }> {
  for (const run of runners) await run();
  const samples = runners.map((): number[] => []);
  let spent = 0;
  while (samples[0].length < 3 || (spent < runners.length * minMs && samples[0].length < 50)) {
    for (const [i, run] of runners.entries()) {
      const start = performance.now();
      await run();
      const ms = performance.now() - start;
      samples[i].push(ms);
      spent += ms;
    }
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return { medians: samples.map(median), runs: samples[0].length };
}
