/** A malformed CSV file; the message names the source and the line. */
export class CsvError extends Error {
  override readonly name = 'CsvError';
  readonly source: string;
  /** 1-based line on which the problem was found. */
  readonly line: number;

  constructor(source: string, line: number, problem: string) {
    super(`${source}: line ${line}: ${problem}`);
    this.source = source;
    this.line = line;
  }
}
