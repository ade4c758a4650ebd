import type { CsvRecord } from '../csv/csv-table.js';
import { RleError } from './rle-error.js';
import { forEachRleRun } from './rle-parse.js';

/** The size of each image by id, as dataset_information.csv gives it. */
export type ImageSizes = Map<string, { width: number; height: number }>;

/**
 * Image sizes from the records of a Kaggle dataset_information.csv (`image_file` like "aaa6a05cc.tiff",
 * `width_pixels`, `height_pixels`).
 */
export function imageSizesFromInfo(
  records: Iterable<CsvRecord>,
  source = 'dataset_information.csv',
): ImageSizes {
  const sizes: ImageSizes = new Map();
  for (const { line, values } of records) {
    const id = (values.image_file ?? '').replace(/\.(ome\.)?tiff?$/i, '');
    const width = Number(values.width_pixels);
    const height = Number(values.height_pixels);
    if (id === '' || !Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new Error(
        `${source}: line ${line}: needs image_file, width_pixels and height_pixels (positive integers)`,
      );
    }
    sizes.set(id, { width, height });
  }
  return sizes;
}

/** The verdict on one row of an RLE table. */
export interface RleCheckRow {
  id: string;
  line: number;
  ok: boolean;
  runs: number;
  pixels: number;
  /** What is wrong, when not ok. */
  error?: string;
}

export interface RleCheckReport {
  rows: RleCheckRow[];
  ok: boolean;
  /** Ids in the size table that no row mentions. */
  missing: string[];
}

/**
 * Validates every row (`id`, and `encoding` or `predicted`) of a train.csv or submission against the
 * image sizes: the backbone of `nephron rle check`. Streams rows, so a huge CSV is fine.
 */
export async function checkRleTable(
  records: AsyncIterable<CsvRecord> | Iterable<CsvRecord>,
  sizes: ImageSizes,
): Promise<RleCheckReport> {
  const rows: RleCheckRow[] = [];
  const seen = new Set<string>();
  for await (const { line, values } of records) {
    const id = values.id ?? '';
    const text = values.encoding ?? values.predicted;
    const row: RleCheckRow = { id, line, ok: false, runs: 0, pixels: 0 };
    rows.push(row);
    if (seen.has(id)) {
      row.error = `id "${id}" appears more than once`;
      continue;
    }
    seen.add(id);
    const size = sizes.get(id);
    if (text === undefined) {
      row.error = 'no encoding or predicted column';
    } else if (size === undefined) {
      row.error = `image "${id}" is not in the size table`;
    } else {
      try {
        row.runs = forEachRleRun(text, { ...size, id }, (_, length) => {
          row.pixels += length;
        });
        row.ok = true;
      } catch (error) {
        if (!(error instanceof RleError)) throw error;
        row.pixels = 0;
        row.error = error.message;
      }
    }
  }
  const missing = [...sizes.keys()].filter((id) => !seen.has(id));
  return { rows, ok: rows.every((r) => r.ok), missing };
}

/** The report as lines of text for a terminal. */
export function formatRleCheckReport(report: RleCheckReport): string {
  const lines = report.rows.map((r) =>
    r.ok ? `ok    ${r.id}  ${r.runs} runs, ${r.pixels} pixels` : `FAIL  ${r.id} (line ${r.line}): ${r.error}`,
  );
  const bad = report.rows.filter((r) => !r.ok).length;
  lines.push(`${report.rows.length - bad} of ${report.rows.length} rows valid`);
  if (report.missing.length > 0) lines.push(`no row for: ${report.missing.join(', ')}`);
  return lines.join('\n');
}
