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
  await run();
  await sync();
  const samples: number[] = [];
  let spent = 0;
  while (samples.length < 3 || (spent < minMs && samples.length < 50)) {
    const start = performance.now();
    await run();
    await sync();
    const ms = performance.now() - start;
    samples.push(ms);
    spent += ms;
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)], runs: samples.length };
}

export const syncOurs = () => getEngine().sync();

/**
 * Times two runners (each records its GPU work and waits for it) in alternation, one run of each in turn, and
 * returns both medians in ms. On a shared machine the load then falls on both sides alike, so their ratio is
 * steadier than that of two figures taken one after the other. Each is warmed up (and compiled) first; runs
 * repeat until both have 3 samples and `minMs` has passed for each, at most 50 each.
 */
export async function timeAlternating(
  a: () => Promise<void>,
  b: () => Promise<void>,
  minMs = 1000,
): Promise<[number, number]> {
  await a();
  await b();
  const samples: [number[], number[]] = [[], []];
  let spent = 0;
  while (samples[0].length < 3 || (spent < 2 * minMs && samples[0].length < 50)) {
    for (const [i, run] of [a, b].entries()) {
      const start = performance.now();
      await run();
      const ms = performance.now() - start;
      samples[i].push(ms);
      spent += ms;
    }
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return [median(samples[0]), median(samples[1])];
}
