import { type CsvRecord, type CsvTableOptions, readCsvTable } from './csv-table.js';

/** Streams the records of a CSV file from disk (Node only); errors name the file. */
export async function* readCsvFile(path: string, options: CsvTableOptions = {}): AsyncGenerator<CsvRecord> {
  const fs = await import('node:fs');
  const stream = fs.createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    yield* readCsvTable(stream, { ...options, source: options.source ?? path });
  } finally {
    stream.destroy();
  }
}
