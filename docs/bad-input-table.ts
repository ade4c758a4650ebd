import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The bad-input suites keep their cases in tables; docs/bad-input.md shows the same tables. Each suite
 * owns one section of the document, between `<!-- cases:NAME -->` and `<!-- /cases:NAME -->`, and a test
 * checks that the section is exactly what the suite's table renders to. After changing a table, run the
 * suites with `BAD_INPUT_DOC=write` to rewrite the sections.
 */

export interface BadInputRow {
  /** Short name of the case. */
  name: string;
  /** What the input is. */
  input: string;
  /** Parts the error message must contain, besides the file name (empty for inputs that must be accepted). */
  expected: readonly string[];
}

const docPath = join(dirname(fileURLToPath(import.meta.url)), 'bad-input.md');

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

export function renderRows(rows: readonly BadInputRow[]): string {
  const lines = ['| case | input | the message says |', '| --- | --- | --- |'];
  for (const row of rows) {
    const expected =
      row.expected.length === 0 ? '(accepted)' : row.expected.map((e) => `\`${cell(e)}\``).join(' … ');
    lines.push(`| ${cell(row.name)} | ${cell(row.input)} | ${expected} |`);
  }
  return lines.join('\n');
}

/** The section as the document has it, and as the table renders it; rewrites it first under BAD_INPUT_DOC=write. */
export function docSection(
  section: string,
  rows: readonly BadInputRow[],
): { inDoc: string; rendered: string } {
  const open = `<!-- cases:${section} -->\n`;
  const close = `\n<!-- /cases:${section} -->`;
  const rendered = renderRows(rows);
  let text = readFileSync(docPath, 'utf8');
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (process.env.BAD_INPUT_DOC === 'write') {
    text =
      start === -1 || end === -1
        ? `${text.trimEnd()}\n\n${open}${rendered}${close}\n`
        : text.slice(0, start + open.length) + rendered + text.slice(end);
    writeFileSync(docPath, text);
    return { inDoc: rendered, rendered };
  }
  const inDoc =
    start === -1 || end === -1
      ? `(no section "${section}" in docs/bad-input.md)`
      : text.slice(start + open.length, end);
  return { inDoc, rendered };
}
