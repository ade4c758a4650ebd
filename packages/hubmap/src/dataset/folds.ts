import { Random } from '../random.js';
import { shuffle } from '../sampling/sampler.js';

/** One fold of a k-fold split: the images to train on and those held out to validate on. */
export interface Fold {
  index: number;
  train: string[];
  valid: string[];
}

/**
 * Splits images (not tiles: tiles of one slide are too alike to validate each other) into k folds. The
 * ids are sorted before the seeded shuffle, so the split depends only on the set of ids and the seed, and
 * fold sizes differ by at most one.
 */
export function kFoldSplit(ids: readonly string[], k: number, seed: number): Fold[] {
  const unique = [...new Set(ids)].sort();
  if (unique.length !== ids.length) throw new RangeError('kFoldSplit: image ids must be distinct');
  if (!Number.isInteger(k) || k < 2 || k > unique.length) {
    throw new RangeError(
      `kFoldSplit: k must be an integer from 2 to the number of images (${unique.length}), got ${k}`,
    );
  }
  const order = shuffle([...unique], new Random(seed));
  const foldOf = new Map(order.map((id, i) => [id, i % k]));
  return Array.from({ length: k }, (_, index) => ({
    index,
    train: unique.filter((id) => foldOf.get(id) !== index),
    valid: unique.filter((id) => foldOf.get(id) === index),
  }));
}
