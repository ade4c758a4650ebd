import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BadInputRow, docSection } from '../../../../docs/bad-input-table.js';
import { Mask } from '../masks/mask.js';
import { writeMaskPng } from './mask-png-file.js';
import { writeFileAtomic } from './write-file-atomic.js';

/**
 * Output that cannot be written. The message names the target (not the temporary file), and afterwards
 * the folder holds exactly what it held before: no temporary file, and an existing target unchanged.
 * (Tests run as root, which ignores permission bits, so unwritable places are made from files and folders.)
 */

interface WriteCase extends BadInputRow {
  /** Prepares the folder and returns the target path and the write to attempt. */
  setup: (dir: string) => { target: string; write: (target: string) => Promise<void> };
}

const root = mkdtempSync(join(tmpdir(), 'nephron-bad-write-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mask = new Mask(4, 3, Uint8Array.from([1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0]));

async function* failingHalfway(): AsyncGenerator<string> {
  yield 'id,predicted\n';
  yield 'a,1 2\n';
  throw new Error('the predictor crashed');
}

const cases: WriteCase[] = [
  {
    name: 'folder does not exist',
    input: 'out/missing/mask.png',
    setup: (dir) => ({ target: join(dir, 'missing', 'mask.png'), write: (t) => writeMaskPng(t, mask) }),
    expected: ['cannot write (ENOENT)'],
  },
  {
    name: 'parent is a file',
    input: 'out/file.txt/mask.png',
    setup: (dir) => {
      writeFileSync(join(dir, 'file.txt'), 'x');
      return { target: join(dir, 'file.txt', 'mask.png'), write: (t) => writeMaskPng(t, mask) };
    },
    expected: ['cannot write (ENOTDIR)'],
  },
  {
    name: 'target is a folder',
    input: 'out/submission.csv/ is a folder',
    setup: (dir) => {
      mkdirSync(join(dir, 'submission.csv'));
      writeFileSync(join(dir, 'submission.csv', 'keep'), 'x');
      return { target: join(dir, 'submission.csv'), write: (t) => writeFileAtomic(t, 'id,predicted\n') };
    },
    expected: ['cannot write (EISDIR)'],
  },
  {
    name: 'the data fails halfway',
    input: 'a stream of rows that throws after two pieces, over an existing file',
    setup: (dir) => {
      writeFileSync(join(dir, 'submission.csv'), 'the old submission\n');
      return { target: join(dir, 'submission.csv'), write: (t) => writeFileAtomic(t, failingHalfway()) };
    },
    expected: [],
  },
];

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path, `${prefix}${entry.name}/`);
      else out[`${prefix}${entry.name}`] = readFileSync(path, 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

describe('output that cannot be written', () => {
  it.each(cases)('$name: $input', async (c) => {
    const dir = join(root, c.name.replace(/[^a-z0-9]+/gi, '-'));
    mkdirSync(dir);
    const { target, write } = c.setup(dir);
    const before = snapshot(dir);
    const error = await write(target).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error, 'the write succeeded').toBeInstanceOf(Error);
    if (c.expected.length === 0) {
      // The failure came from the data, so its own message is the one to keep.
      expect(error!.message).toBe('the predictor crashed');
    } else {
      expect(error!.message.startsWith(`${target}: `), error!.message).toBe(true);
      for (const part of c.expected) expect(error!.message).toContain(part);
    }
    expect(snapshot(dir)).toEqual(before);
  });

  it('docs/bad-input.md lists exactly these cases', () => {
    const rows = cases.map((c) =>
      c.expected.length === 0 ? { ...c, expected: ['(the data’s own error)'] } : c,
    );
    const { inDoc, rendered } = docSection('write', rows);
    expect(inDoc, 'run with BAD_INPUT_DOC=write to update the document').toBe(rendered);
  });
});
