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
