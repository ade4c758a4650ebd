import type { TrainConfig } from './config.js';

/**
 * Options a run may change when it resumes. More epochs extend the run; how often it checkpoints does not touch
 * the arithmetic. Everything else (batch size, tile, learning rate, seed, augmentation, …) would silently make the
 * resumed run a different run from the one its checkpoint and metrics describe.
 */
const MAY_CHANGE: ReadonlySet<string> = new Set(['epochs', 'checkpointEvery']);

/** The options whose values differ, as `name: saved → asked` lines, outer keys first. */
export function resumeConflicts(saved: unknown, asked: TrainConfig): string[] {
  if (saved === null || typeof saved !== 'object')
    return ['config: the checkpoint holds no training options'];
  const old = saved as Record<string, unknown>;
  const conflicts: string[] = [];
  for (const [key, value] of Object.entries(asked)) {
    if (MAY_CHANGE.has(key)) continue;
    // Options added after the checkpoint was written take their defaults; only a saved value can conflict.
    if (!(key in old)) continue;
    if (canonical(old[key]) !== canonical(value)) {
      conflicts.push(`${key}: ${canonical(old[key])} → ${canonical(value)}`);
    }
  }
  return conflicts;
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
