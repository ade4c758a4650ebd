import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Progress, StepRecord } from '@nephron/hubmap';
import { loadSafetensors } from '@nephron/nn';
import { isTemp } from './cli-process.js';

/** The files `nephron train` may leave in its run folder (besides temporaries of killed writes). */
export const RUN_FILES = new Set([
  'config.json',
  'last.safetensors',
  'model.safetensors',
  'metrics.jsonl',
  'metrics.csv',
  'steps.jsonl',
  'report.html',
  // The validation slides as the saved model predicted them, for report.html.
  'validation.json',
  'validation',
]);

export interface RunState {
  /** What last.safetensors says, or null when there is none yet. */
  progress: Progress | null;
  steps: StepRecord[];
  temps: string[];
  others: string[];
}

/**
 * Reads a run folder as `--resume` would find it. last.safetensors, when present, must load completely
 * (every tensor uploaded through `loadSafetensors`) and be a nephron checkpoint; anything else throws.
 */
export function readRunState(run: string): RunState {
  const names = existsSync(run) ? readdirSync(run) : [];
  const path = join(run, 'last.safetensors');
  let progress: Progress | null = null;
  if (names.includes('last.safetensors')) {
    const { tensors, metadata } = loadSafetensors(new Uint8Array(readFileSync(path)), path);
    for (const t of tensors.values()) t.dispose();
    if (metadata.format !== 'nephron-checkpoint-1')
      throw new Error(`${path}: metadata format is "${metadata.format}", not a checkpoint`);
    progress = JSON.parse(metadata.progress) as Progress;
  }
  return {
    progress,
    steps: names.includes('steps.jsonl') ? jsonLines<StepRecord>(join(run, 'steps.jsonl')) : [],
    temps: names.filter(isTemp),
    others: names.filter((name) => !isTemp(name) && !RUN_FILES.has(name)),
  };
}

export function jsonLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}
