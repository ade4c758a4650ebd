import {
  type CsvInput,
  type CsvRecord,
  type ImageSizes,
  parseRle,
  RleError,
  type RleRuns,
  readCsvTable,
} from '@nephron/io';
import { type DiceParts, runDice } from './run-dice.js';

/** A submission that cannot be scored: the message names the file, and the line or ids at fault. */
export class ScoringError extends Error {
  override readonly name = 'ScoringError';
}

/** One image's score. */
export interface ImageScore extends DiceParts {
  id: string;
}

/** The competition metric over a submission: the mean of the per-image Dice, and each image's parts. */
export interface SubmissionScore {
  mean: number;
  images: ImageScore[];
}

export interface ScoreOptions {
  /** File names for messages. */
  predictedName?: string;
  truthName?: string;
  /** Image sizes by id (from a dataset-information CSV): then no run may reach past its image. */
  sizes?: ImageSizes;
}

/**
 * Scores a submission (`id,predicted`) against the true masks (`id,encoding` as in train.csv, or
 * `id,predicted`). Both files stream in; each encoding becomes a list of runs and the Dice comes from
 * intersecting the runs, so no full-resolution mask is ever made. Every id of the truth needs exactly one
 * row in the submission and the submission may hold no other ids; images are reported in the truth's order.
 */
export async function scoreSubmission(
  predicted: CsvInput,
  truth: CsvInput,
  options: ScoreOptions = {},
): Promise<SubmissionScore> {
  const predictedName = options.predictedName ?? 'submission';
  const truthName = options.truthName ?? 'solution';
  const truthRuns = await readEncodings(truth, truthName, options.sizes);
  const predictedRuns = await readEncodings(predicted, predictedName, options.sizes);

  const missing = [...truthRuns.keys()].filter((id) => !predictedRuns.has(id));
  if (missing.length > 0) {
    throw new ScoringError(
      `${predictedName}: no row for ${missing.length} image${missing.length === 1 ? '' : 's'} of ${truthName}: ${listIds(missing)}`,
    );
  }
  const extra = [...predictedRuns.keys()].filter((id) => !truthRuns.has(id));
  if (extra.length > 0) {
    throw new ScoringError(
      `${predictedName}: ${extra.length} id${extra.length === 1 ? ' is' : 's are'} not in ${truthName}: ${listIds(extra)}`,
    );
  }
  const images: ImageScore[] = [];
  for (const [id, runs] of truthRuns) {
    images.push({ id, ...runDice(predictedRuns.get(id) as RleRuns, runs) });
  }
  if (images.length === 0)
    throw new ScoringError(`${truthName}: no images to score (the file has a header only)`);
  const mean = images.reduce((sum, image) => sum + image.dice, 0) / images.length;
  return { mean, images };
}

/** The column holding the encodings: Kaggle calls it `predicted` in submissions and `encoding` in train.csv. */
const ENCODING_COLUMNS = ['predicted', 'encoding'] as const;

/** No size known: every run that is well formed fits. */
const UNBOUNDED = { width: 1, height: Number.MAX_SAFE_INTEGER };

async function readEncodings(
  input: CsvInput,
  name: string,
  sizes: ImageSizes | undefined,
): Promise<Map<string, RleRuns>> {
  const encodings = new Map<string, RleRuns>();
  let column: string | undefined;
  const lines = new Map<string, number>();
  for await (const record of readCsvTable(input, { source: name, required: ['id'] })) {
    column ??= encodingColumn(record, name);
    const id = record.values.id;
    const seen = lines.get(id);
    if (seen !== undefined)
      throw new ScoringError(`${name}: line ${record.line}: id "${id}" already appeared on line ${seen}`);
    lines.set(id, record.line);
    const size = sizes?.get(id) ?? UNBOUNDED;
    try {
      encodings.set(id, parseRle(record.values[column], { ...size, id }));
    } catch (error) {
      if (error instanceof RleError) throw new ScoringError(`${name}: line ${record.line}: ${error.message}`);
      throw error;
    }
  }
  return encodings;
}

function encodingColumn(record: CsvRecord, name: string): string {
  const found = ENCODING_COLUMNS.find((c) => c in record.values);
  if (found === undefined) {
    throw new ScoringError(
      `${name}: no "predicted" or "encoding" column (columns: ${Object.keys(record.values).join(',')})`,
    );
  }
  return found;
}

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, 10).join(', ');
  return ids.length > 10 ? `${shown} and ${ids.length - 10} more` : shown;
}
