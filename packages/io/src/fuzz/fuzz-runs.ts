/**
 * How many generated inputs each fuzz property runs. CI runs the base counts (the whole set of io and nn
 * fuzz suites stays well under a minute on two cores); `pnpm fuzz` sets NEPHRON_FUZZ_SCALE (default 50 there)
 * for a long run. NEPHRON_FUZZ_SEED replays a run that failed.
 */
export function fuzzRuns(base: number): number {
  const scale = Number(process.env.NEPHRON_FUZZ_SCALE ?? 1);
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** fast-check parameters: the scaled run count, and a fixed seed when one is given. */
export function fuzzParameters(base: number): { numRuns: number; seed?: number } {
  const seed = process.env.NEPHRON_FUZZ_SEED;
  return { numRuns: fuzzRuns(base), ...(seed === undefined ? {} : { seed: Number(seed) }) };
}
