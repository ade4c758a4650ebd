import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMaskPng, parseCsvTable } from '@nephron/io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, JS_STACK_FRAME, runBuiltCli, sharedData } from '../testing/built-cli.js';

const vanderbilt = `${sharedData}hubmap-vanderbilt/`;

describe.skipIf(!existsSync(vanderbilt))('nephron rle on ../shared/data (skipped when absent)', () => {
  const out = mkdtempSync(join(tmpdir(), 'nephron-rle-'));
  beforeAll(assertCliBuilt);
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const trainCsv = `${vanderbilt}train.csv`;
  const info = `${vanderbilt}dataset_information.csv`;
  const train = existsSync(trainCsv) ? parseCsvTable(readFileSync(trainCsv, 'utf8')) : [];

  it('decodes a mask to PNG and encodes it back to the same text, for a wide and a tall slide', () => {
    for (const [id, width, height] of [
      ['588347964', 6400, 3600],
      ['5c08da6cf', 1600, 2400],
    ] as const) {
      const png = join(out, `${id}.png`);
      const decoded = runBuiltCli([
        'rle',
        'decode',
        '--csv',
        trainCsv,
        '--id',
        id,
        '--width',
        String(width),
        '--height',
        String(height),
        '--out',
        png,
        '--json',
      ]);
      expect(decoded.code).toBe(0);
      const mask = decodeMaskPng(readFileSync(png));
      expect([mask.width, mask.height]).toEqual([width, height]);
      expect(JSON.parse(decoded.stdout)).toMatchObject({ id, width, height, pixels: mask.countOnes() });
      const encoded = runBuiltCli(['rle', 'encode', '--mask', png]);
      expect(encoded.code).toBe(0);
      expect(encoded.stdout).toBe(`${train.find((r) => r.values.id === id)?.values.encoding}\n`);
    }
  });

  it('writes 1-bit PNGs that encode back to the same text', () => {
    const png = join(out, 'bits.png');
    const args = [
      'rle',
      'decode',
      '--csv',
      trainCsv,
      '--id',
      'c4a84d0cf',
      '--info',
      info,
      '--depth',
      '1',
      '--out',
      png,
    ];
    expect(runBuiltCli(args).code).toBe(0);
    expect(readFileSync(png)[24]).toBe(1); // IHDR bit depth
    expect(runBuiltCli(['rle', 'encode', '--mask', png]).stdout).toBe(
      `${train.find((r) => r.values.id === 'c4a84d0cf')?.values.encoding}\n`,
    );
    expect(runBuiltCli([...args.slice(0, -4), '--depth', '4', '--out', png]).code).toBe(2);
  });

  it('takes the size from a dataset-information CSV just as well', () => {
    const png = join(out, 'info.png');
    expect(
      runBuiltCli(['rle', 'decode', '--csv', trainCsv, '--id', '588347964', '--info', info, '--out', png])
        .code,
    ).toBe(0);
    expect(readFileSync(png).equals(readFileSync(join(out, '588347964.png')))).toBe(true);
  });

  it('checks every encoding of train.csv against the sizes', () => {
    const { code, stdout } = runBuiltCli(['rle', 'check', '--csv', trainCsv, '--info', info, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(true);
    expect(report.rows.map((row: { id: string }) => row.id)).toEqual(train.map((r) => r.values.id));
  });

  it('finds bad encodings, naming the line and image, with exit 1', () => {
    const csv = join(out, 'bad.csv');
    const [first, second] = train;
    writeFileSync(
      csv,
      `id,encoding\n${first.values.id},${first.values.encoding}\n${second.values.id},5 3 7 2\n`,
    );
    const { code, stdout, stderr } = runBuiltCli(['rle', 'check', '--csv', csv, '--info', info]);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `FAIL  ${second.values.id} (line 3): RLE of image "${second.values.id}": token 3`,
    );
    expect(stdout).toContain('1 of 2 rows valid');
    expect(stderr).toBe(`nephron: ${csv}: 1 invalid encoding\n`);
  });

  it('says which id is missing or too big for the size given, and asks for a size', () => {
    const png = join(out, 'never.png');
    const missing = runBuiltCli([
      'rle',
      'decode',
      '--csv',
      trainCsv,
      '--id',
      'nope',
      '--width',
      '9',
      '--height',
      '9',
      '--out',
      png,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${trainCsv}: no row with id "nope"`);
    const small = runBuiltCli([
      'rle',
      'decode',
      '--csv',
      trainCsv,
      '--id',
      '588347964',
      '--width',
      '640',
      '--height',
      '360',
      '--out',
      png,
    ]);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(
      /: line 2: RLE of image "588347964": token \d+ .*past the last pixel 230400 of a 640 x 360 mask/,
    );
    expect(small.stderr).not.toMatch(JS_STACK_FRAME);
    const unsized = runBuiltCli(['rle', 'decode', '--csv', trainCsv, '--id', '588347964', '--out', png]);
    expect(unsized.code).toBe(2);
    expect(unsized.stderr).toContain('give --width and --height, or --info');
    expect(existsSync(png)).toBe(false);
    const notPng = runBuiltCli(['rle', 'encode', '--mask', trainCsv]);
    expect(notPng.code).toBe(1);
    expect(notPng.stderr).toContain(`${trainCsv}: not a readable PNG`);
  });
});
