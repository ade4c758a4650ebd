import { CsvError } from './csv-error.js';
import { CsvParser, type CsvRow } from './csv-parser.js';

/** One data record of a CSV table with a header line: values by column name, and where it was. */
export interface CsvRecord {
  line: number;
  values: Record<string, string>;
}

/** Bytes or text arriving in pieces: a Node read stream, a browser `Blob.stream()`, or an array of strings. */
export type CsvInput =
  | AsyncIterable<Uint8Array | string>
  | Iterable<string>
  | ReadableStream<Uint8Array>
  | string;

export interface CsvTableOptions {
  /** Name of the file for error messages. */
  source?: string;
  /** Columns that must be present in the header. */
  required?: readonly string[];
}

/**
 * Turns rows into records keyed by the header. Blank lines are skipped; a row with the wrong number of
 * fields is an error naming the line.
 */
class TableBuilder {
  header: string[] | undefined;
  constructor(
    private readonly source: string,
    private readonly required: readonly string[],
  ) {}

  *records(rows: CsvRow[]): Generator<CsvRecord> {
    for (const row of rows) {
      if (row.fields.length === 1 && row.fields[0] === '') continue;
      if (this.header === undefined) {
        this.header = row.fields.map((name, i) => (i === 0 ? name.replace(/^\uFEFF/, '') : name));
        for (const name of this.required) {
          if (!this.header.includes(name)) {
            throw new CsvError(
              this.source,
              row.line,
              `missing column "${name}" (header: ${this.header.join(',')})`,
            );
          }
        }
        continue;
      }
      if (row.fields.length !== this.header.length) {
        throw new CsvError(
          this.source,
          row.line,
          `${row.fields.length} fields, the header has ${this.header.length}`,
        );
      }
      const values: Record<string, string> = {};
      for (let i = 0; i < this.header.length; i++) values[this.header[i]] = row.fields[i];
      yield { line: row.line, values };
    }
  }
}

/** Parses a whole CSV text with a header line into records. */
export function parseCsvTable(text: string, options: CsvTableOptions = {}): CsvRecord[] {
  const source = options.source ?? 'CSV';
  const parser = new CsvParser(source);
  const table = new TableBuilder(source, options.required ?? []);
  const out = [...table.records(parser.push(text)), ...table.records(parser.finish())];
  if (table.header === undefined) throw new CsvError(source, 1, 'the file is empty (no header line)');
  return out;
}

/**
 * Reads a CSV table from a stream, yielding each record once its line is complete, so a train.csv of
 * several hundred megabytes never sits in memory whole. Works the same in Node and in the browser.
 */
export async function* readCsvTable(
  input: CsvInput,
  options: CsvTableOptions = {},
): AsyncGenerator<CsvRecord> {
  const source = options.source ?? 'CSV';
  const parser = new CsvParser(source);
  const table = new TableBuilder(source, options.required ?? []);
  for await (const text of textPieces(input)) yield* table.records(parser.push(text));
  yield* table.records(parser.finish());
  if (table.header === undefined) throw new CsvError(source, 1, 'the file is empty (no header line)');
}

/** Decodes UTF-8 pieces (a multi-byte character may be split between pieces). */
export async function* textPieces(input: CsvInput): AsyncGenerator<string> {
  if (typeof input === 'string') {
    yield input;
    return;
  }
  const decoder = new TextDecoder('utf-8');
  const decode = (piece: Uint8Array | string): string =>
    typeof piece === 'string' ? piece : decoder.decode(piece, { stream: true });
  if (isReadableStream(input)) {
    const reader = input.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        yield decode(value);
      }
    } finally {
      reader.releaseLock();
    }
  } else if (Symbol.asyncIterator in input) {
    for await (const piece of input as AsyncIterable<Uint8Array | string>) yield decode(piece);
  } else {
    for (const piece of input as Iterable<string>) yield decode(piece);
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield rest;
}

function isReadableStream(input: unknown): input is ReadableStream<Uint8Array> {
  return (
    typeof input === 'object' && input !== null && typeof (input as ReadableStream).getReader === 'function'
  );
}
