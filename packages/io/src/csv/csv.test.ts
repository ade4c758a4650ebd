import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvError } from './csv-error.js';
import { CsvParser, parseCsv } from './csv-parser.js';
import { parseCsvTable, readCsvTable } from './csv-table.js';
import { csvLines, formatCsvRow } from './csv-writer.js';

describe('CSV reader', () => {
  it('reads quoted fields, doubled quotes, CRLF and a missing final newline', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n1,\n"multi\nline",z')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['1', ''],
      ['multi\nline', 'z'],
    ]);
  });

  it('gives the same records whatever the pieces the text arrives in', () => {
    const text = 'id,encoding\r\nabc,"1 2 3 4"\n"q""x",5 6\n';
    const whole = parseCsv(text);
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new CsvParser();
      const rows = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut)), ...parser.finish()];
      expect(rows.map((r) => r.fields)).toEqual(whole);
    }
  });

  it('maps records by header, skips blank lines and names the file and line of a bad row', async () => {
    const table = parseCsvTable('\uFEFFid,encoding\nA,1 2\n\nB,\n', {
      source: 'train.csv',
      required: ['id'],
    });
    expect(table).toEqual([
      { line: 2, values: { id: 'A', encoding: '1 2' } },
      { line: 4, values: { id: 'B', encoding: '' } },
    ]);
    expect(() => parseCsvTable('id,encoding\nA,1,2\n', { source: 'train.csv' })).toThrow(
      'train.csv: line 2: 3 fields, the header has 2',
    );
    expect(() => parseCsvTable('a,b\n', { source: 'f.csv', required: ['id'] })).toThrow(
      /f.csv: line 1: missing column "id"/,
    );
    expect(() => parseCsv('a,"b\n', 'f.csv')).toThrow(/f.csv: line 1: a quoted field is not closed/);
    expect(() => parseCsv('a,"b"c\n', 'f.csv')).toThrow(CsvError);
    expect(() => parseCsv('a,b"c\n', 'f.csv')).toThrow(/a quote inside an unquoted field/);
    expect(() => parseCsvTable('', { source: 'e.csv' })).toThrow(/e.csv: line 1: the file is empty/);
  });

  it('streams records from bytes, with a multi-byte character split between pieces', async () => {
    const bytes = new TextEncoder().encode('name,v\nNiño,1\nÅsa,2\n');
    const pieces = [bytes.subarray(0, 10), bytes.subarray(10, 11), bytes.subarray(11)];
    async function* chunks() {
      yield* pieces;
    }
    const out = [];
    for await (const record of readCsvTable(chunks())) out.push(record.values);
    expect(out).toEqual([
      { name: 'Niño', v: '1' },
      { name: 'Åsa', v: '2' },
    ]);
    const fromStream = [];
    const stream = new Blob([bytes]).stream();
    for await (const record of readCsvTable(stream)) fromStream.push(record.values.name);
    expect(fromStream).toEqual(['Niño', 'Åsa']);
  });

  it('writes rows that read back, with streamed RLE fields', () => {
    expect(formatCsvRow(['a', 'b,c', 'say "x"', 3])).toBe('a,"b,c","say ""x""",3\n');
    const text = [
      ...csvLines(
        ['id', 'predicted'],
        [
          ['x1', ['1 2', ' 7 3']],
          ['x2', ''],
        ],
      ),
    ].join('');
    expect(text).toBe('id,predicted\nx1,1 2 7 3\nx2,\n');
  });
});

describe('CSV reader properties (fast-check)', () => {
  const field = fc.string({
    unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é', '1'),
    maxLength: 8,
  });
  const table = fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 });

  it('reads back what the writer wrote, in any split', () => {
    fc.assert(
      fc.property(table, fc.nat(), (rows, cutSeed) => {
        // A lone empty field is written as a blank line, which is ambiguous; the writer quotes nothing then.
        const safe = rows.filter((r) => !(r.length === 1 && r[0] === ''));
        const text = safe.map((r) => formatCsvRow(r)).join('');
        const cut = text.length === 0 ? 0 : cutSeed % (text.length + 1);
        const parser = new CsvParser();
        const out = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut)), ...parser.finish()];
        expect(out.map((r) => r.fields)).toEqual(safe);
      }),
      { numRuns: 2000 },
    );
  });

  it('never crashes or hangs on arbitrary text: it returns records or throws CsvError', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', 'x', ' '), maxLength: 40 }),
        (text) => {
          try {
            const rows = parseCsv(text);
            expect(Array.isArray(rows)).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(CsvError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
