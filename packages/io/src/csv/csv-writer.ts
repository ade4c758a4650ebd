/** Quotes a field when it holds a comma, a quote or a line break (RFC 4180), doubling inner quotes. */
export function formatCsvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One CSV line, with its newline. */
export function formatCsvRow(fields: readonly (string | number)[]): string {
  return fields.map(formatCsvField).join(',') + '\n';
}

/**
 * A CSV file as a sequence of lines (header first), for writing a submission one row at a time. A field
 * may itself be given in pieces (an iterable of strings), so an RLE that was streamed out of the encoder
 * never has to be joined into one string.
 */
export function* csvLines(
  header: readonly string[],
  rows: Iterable<readonly (string | number | Iterable<string>)[]>,
): Generator<string> {
  yield formatCsvRow(header);
  for (const row of rows) {
    if (row.length !== header.length) {
      throw new RangeError(`csvLines: a row has ${row.length} fields, the header has ${header.length}`);
    }
    for (let i = 0; i < row.length; i++) {
      const field = row[i];
      if (i > 0) yield ',';
      if (typeof field === 'string' || typeof field === 'number') {
        yield formatCsvField(field);
      } else {
        // Streamed fields are RLE text: digits and spaces, which never need quotes.
        for (const piece of field) {
          if (/[",\r\n]/.test(piece))
            throw new RangeError('csvLines: a streamed field may not hold , " or a newline');
          yield piece;
        }
      }
    }
    yield '\n';
  }
}
