/**
 * A row of `nephron bench model`, named `train-NxS` (one training step on N images of S×S pixels) or
 * `infer-NxS` (an eval-mode forward pass over N tiles of S×S). The name says everything the row measures, so
 * PyTorch's script parses the same names and sizes are overridden by naming other rows.
 */
export interface ModelRowSpec {
  name: string;
  kind: 'train' | 'infer';
  batch: number;
  size: number;
}

/** The rows issue 9 asks for: training at 2 × 256² and 8 × 512², inference at 8 × 512². */
export const DEFAULT_MODEL_ROWS = 'train-2x256,train-8x512,infer-8x512';

const ROW = /^(train|infer)-(\d+)x(\d+)$/;

/** Parses `--rows`; a bad name throws a RangeError that names it and the form expected. */
export function parseModelRows(text: string): ModelRowSpec[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new RangeError('--rows: no rows given; e.g. --rows train-2x256,infer-8x512');
  const rows: ModelRowSpec[] = [];
  for (const name of names) {
    const match = ROW.exec(name);
    if (!match) {
      throw new RangeError(
        `--rows: "${name}" is not a row; write train-NxS or infer-NxS (batch N, S×S pixels), e.g. train-2x256`,
      );
    }
    const batch = Number(match[2]);
    const size = Number(match[3]);
    // Five stride-2 stages and a decoder that doubles back up: sides must divide by 32.
    if (batch < 1 || size < 32 || size % 32 !== 0) {
      throw new RangeError(
        `--rows: "${name}" needs a batch of at least 1 and a size that is a multiple of 32`,
      );
    }
    if (rows.some((r) => r.name === name)) throw new RangeError(`--rows: "${name}" is given twice`);
    rows.push({ name, kind: match[1] as 'train' | 'infer', batch, size });
  }
  return rows;
}
