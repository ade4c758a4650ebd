import type { Command } from 'commander';
import type { HostFiles } from '../host/files.js';
import { readFileBytes } from '../host/files.js';

/** A usage mistake: exit code 2 and a message naming the option. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function positiveInt(name: string, value: string | number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${name} must be a positive integer, got "${value}"`);
  return n;
}

export function nonNegativeInt(name: string, value: string | number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

export function positiveNumber(name: string, value: string | number): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n))
    throw new UsageError(`${name} must be a positive number, got "${value}"`);
  return n;
}

/** `i/n` for --shard. */
export function parseShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  if (!m) throw new UsageError(`--shard must look like i/n (e.g. 0/4), got "${value}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UsageError(`--shard ${value}: need 0 <= i < n`);
  return { index, count };
}

/**
 * Merges a JSON config file under the command-line flags: a flag the user typed wins, a value from the file wins
 * over a default. Keys are the options' camelCase names (as in `--batch-size` → `batchSize`).
 */
export async function withConfigFile<T extends object>(
  command: Command,
  options: T & { config?: string },
  files: HostFiles,
): Promise<T> {
  if (!options.config) return options;
  let parsed: unknown;
  const bytes = await readFileBytes(files, options.config);
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new UsageError(`${options.config}: not valid JSON (${(error as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(
      `${options.config}: the config file must hold a JSON object of option names to values`,
    );
  }
  const known = new Set(command.options.map((o) => o.attributeName()));
  const merged: Record<string, unknown> = { ...options };
  for (const [key, value] of Object.entries(parsed)) {
    if (!known.has(key))
      throw new UsageError(`${options.config}: unknown option "${key}" for ${command.name()}`);
    if (command.getOptionValueSource(key) !== 'cli')
      merged[key] = typeof value === 'number' ? String(value) : value;
  }
  return merged as T;
}
