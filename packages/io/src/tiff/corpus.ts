import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared/data` next to the repository, found from this file so tests run from any directory. */
export const sharedData = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/data');
export const tiffCorpus = resolve(sharedData, 'tiff-corpus');
export const hubmapData = resolve(sharedData, 'hubmap-vanderbilt');
export const hasTiffCorpus = existsSync(tiffCorpus);
export const hasHubmapData = existsSync(hubmapData);

/** Rejects if `promise` has not settled within `ms`, naming what it was waiting for. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
