import { CsvError } from './csv-error.js';

/** One record and the line it began on. */
export interface CsvRow {
  fields: string[];
  line: number;
}

const COMMA = 44;
const QUOTE = 34;
const CR = 13;
const LF = 10;

/**
 * An incremental RFC 4180 CSV parser: feed it text in pieces of any size and it hands back each record
 * as soon as the record is complete. Fields may be quoted ("" inside quotes is one quote); records end in
 * LF or CRLF; a quoted field may span lines. A Kaggle train.csv row holds one multi-megabyte field, so
 * unquoted fields are cut out with slices rather than character by character.
 */
export class CsvParser {
  readonly source: string;
  private field = '';
  private record: string[] = [];
  /** Inside a quoted field; `quoteSeen` means the last character was a quote that may close it. */
  private inQuotes = false;
  private quoteSeen = false;
  /** A closing quote was read and only a separator may follow. */
  private afterQuote = false;
  private fieldStarted = false;
  private pendingCR = false;
  private line = 1;
  private recordLine = 1;

  constructor(source = 'CSV') {
    this.source = source;
  }

  /** Parses the next piece of text and returns the records it completed. */
  push(text: string): CsvRow[] {
    const done: CsvRow[] = [];
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (this.pendingCR) {
        this.pendingCR = false;
        if (c === LF) {
          i++;
          continue;
        }
      }
      if (this.inQuotes) {
        if (this.quoteSeen) {
          this.quoteSeen = false;
          if (c === QUOTE) {
            this.field += '"';
            i++;
            continue;
          }
          this.inQuotes = false;
          this.afterQuote = true;
          continue; // look at c again as the character after a closed quoted field
        }
        const q = text.indexOf('"', i);
        const end = q === -1 ? n : q;
        const chunk = text.slice(i, end);
        this.field += chunk;
        this.line += countNewlines(chunk);
        if (q === -1) break;
        this.quoteSeen = true;
        i = q + 1;
        continue;
      }
      if (c === COMMA) {
        this.endField();
        i++;
        continue;
      }
      if (c === LF || c === CR) {
        this.endField();
        done.push({ fields: this.record, line: this.recordLine });
        this.record = [];
        this.line++;
        this.recordLine = this.line;
        this.pendingCR = c === CR;
        i++;
        continue;
      }
      if (this.afterQuote) {
        throw new CsvError(
          this.source,
          this.line,
          `unexpected character ${JSON.stringify(text[i])} after a closing quote`,
        );
      }
      if (c === QUOTE) {
        if (this.fieldStarted) {
          throw new CsvError(
            this.source,
            this.line,
            'a quote inside an unquoted field (quote the whole field)',
          );
        }
        this.inQuotes = true;
        this.fieldStarted = true;
        i++;
        continue;
      }
      // An unquoted stretch: take everything up to the next character that means something.
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === COMMA || d === LF || d === CR || d === QUOTE) break;
        j++;
      }
      this.field += text.slice(i, j);
      this.fieldStarted = true;
      i = j;
    }
    return done;
  }

  /** Ends the input: returns the last record if the text did not end with a newline. */
  finish(): CsvRow[] {
    if (this.inQuotes && !this.quoteSeen) {
      throw new CsvError(
        this.source,
        this.recordLine,
        'a quoted field is not closed before the end of the file',
      );
    }
    this.inQuotes = false;
    this.quoteSeen = false;
    if (!this.fieldStarted && this.record.length === 0 && !this.afterQuote) return [];
    this.endField();
    const last = { fields: this.record, line: this.recordLine };
    this.record = [];
    return [last];
  }

  private endField(): void {
    this.record.push(this.field);
    this.field = '';
    this.fieldStarted = false;
    this.afterQuote = false;
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (let k = s.indexOf('\n'); k !== -1; k = s.indexOf('\n', k + 1)) n++;
  return n;
}

/** Parses a whole CSV text into records (arrays of fields). */
export function parseCsv(text: string, source = 'CSV'): string[][] {
  const parser = new CsvParser(source);
  return [...parser.push(text), ...parser.finish()].map((row) => row.fields);
}
