/**
 * Runs of set pixels in the Kaggle column-major numbering: `starts[i]` (0-based) and `lengths[i]`, sorted by
 * start and not overlapping (runs may touch). `parseRle` from `@nephron/io` returns this shape.
 */
export interface RunList {
  readonly starts: ArrayLike<number>;
  readonly lengths: ArrayLike<number>;
  readonly count: number;
}

/** How many pixels the runs cover. */
export function runArea(runs: RunList): number {
  let area = 0;
  for (let i = 0; i < runs.count; i++) area += runs.lengths[i];
  return area;
}

/**
 * How many pixels two run lists share. Pixel numbering is a one-to-one map of the image, so the overlap of
 * two masks is the overlap of their runs as intervals on one line: walk both lists together, always
 * stepping past whichever run ends first. Time grows with the number of runs, never with the pixels.
 */
export function runIntersection(a: RunList, b: RunList): number {
  let shared = 0;
  let i = 0;
  let j = 0;
  while (i < a.count && j < b.count) {
    const aStart = a.starts[i];
    const bStart = b.starts[j];
    const aEnd = aStart + a.lengths[i];
    const bEnd = bStart + b.lengths[j];
    const overlap = Math.min(aEnd, bEnd) - Math.max(aStart, bStart);
    if (overlap > 0) shared += overlap;
    if (aEnd <= bEnd) i++;
    else j++;
  }
  return shared;
}

/** The parts of a Dice coefficient, kept so that reports can show them. */
export interface DiceParts {
  dice: number;
  predictedPixels: number;
  truePixels: number;
  intersection: number;
}

/**
 * The competition's Dice of one image: 2 |P ∩ T| / (|P| + |T|), and 1 when both masks are empty (an image
 * without glomeruli predicted as such is a perfect answer).
 */
export function runDice(predicted: RunList, truth: RunList): DiceParts {
  const predictedPixels = runArea(predicted);
  const truePixels = runArea(truth);
  const intersection = runIntersection(predicted, truth);
  const total = predictedPixels + truePixels;
  const dice = total === 0 ? 1 : (2 * intersection) / total;
  return { dice, predictedPixels, truePixels, intersection };
}
