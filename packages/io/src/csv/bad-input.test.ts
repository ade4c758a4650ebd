import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BadInputRow, docSection } from '../../../../docs/bad-input-table.js';
import { readCsvFile } from './csv-file.js';

/** Broken CSV files, streamed from disk as train.csv and submissions are. */

interface CsvCase extends BadInputRow {
  text: string;
}

const dir = mkdtempSync(join(tmpdir(), 'nephron-bad-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases: CsvCase[] = [
  {
    name: 'empty file',
    input: '0 bytes',
    text: '',
    expected: ['line 1: the file is empty (no header line)'],
  },
  {
    name: 'missing column',
    input: 'header `id,rle` where `encoding` is required',
    text: 'id,rle\na,1 2\n',
    expected: ['line 1: missing column "encoding" (header: id,rle)'],
  },
  {
    name: 'too many fields',
    input: 'a row `a,1 2,x`',
    text: 'id,encoding\na,1 2\nb,1 2,x\n',
    expected: ['line 3: 3 fields, the header has 2'],
  },
  {
    name: 'too few fields',
    input: 'a row `b`',
    text: 'id,encoding\na,1 2\nb\n',
    expected: ['line 3: 1 fields, the header has 2'],
  },
  {
    name: 'unclosed quote',
    input: '`"1 2` to the end of the file',
    text: 'id,encoding\na,"1 2\nb,3 4\n',
    expected: ['line 2: a quoted field is not closed before the end of the file'],
  },
  {
    name: 'text after a closing quote',
    input: '`"1 2"x`',
    text: 'id,encoding\na,"1 2"x\n',
    expected: ['line 2: unexpected character "x" after a closing quote'],
  },
  {
    name: 'stray quote',
    input: '`1 "2"`',
    text: 'id,encoding\na,1 "2"\n',
    expected: ['line 2: a quote inside an unquoted field'],
  },
];

async function readAll(path: string): Promise<void> {
  for await (const _ of readCsvFile(path, { required: ['id', 'encoding'] })) {
    // Only whether the whole file reads matters here.
  }
}

describe('bad CSV input', () => {
  it.each(cases)('$name: $input', async (c) => {
    const path = join(dir, `${c.name.replace(/[^a-z0-9]+/gi, '-')}.csv`);
    writeFileSync(path, c.text);
    const error = await readAll(path).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error, 'the file was accepted').toBeInstanceOf(Error);
    expect(error!.message.startsWith(`${path}: `), error!.message).toBe(true);
    for (const part of c.expected) expect(error!.message).toContain(part);
  });

  it('a missing file is named', async () => {
    await expect(readAll(join(dir, 'absent.csv'))).rejects.toThrow(/absent\.csv/);
  });

  it('docs/bad-input.md lists exactly these cases', () => {
    const { inDoc, rendered } = docSection('csv', cases);
    expect(inDoc, 'run with BAD_INPUT_DOC=write to update the document').toBe(rendered);
  });
});
