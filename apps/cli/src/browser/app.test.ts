import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeMaskPng, rleEncode } from '@nephron/io';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../commands/doctor.js';
import type { NephronPage } from '../web/main.js';
import { chooseFiles, clickAndRun, downloadOutput, typeCommand } from './app-page.js';
import { runNode as nodeRun, sampleMask, writeTinyModel, writeTinySlide } from './fixtures.js';
import { type OpenApp, openApp } from './open-app.js';

const cliRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Where CI picks up the screenshot (ignored by git; the README shows commands.test.ts's browser-commands.png). */
const ARTIFACT = join(cliRoot, 'test-artifacts', 'browser-app.png');

describe('the browser app', () => {
  let outDir: string;
  let fixtures: string;
  let app: OpenApp | undefined;
  let page: Page;

  const runNode = (line: readonly string[]) => nodeRun(fixtures, line);

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'nephron-app-'));
    fixtures = await mkdtemp(join(tmpdir(), 'nephron-app-fixtures-'));
    const mask = sampleMask();
    await writeFile(join(fixtures, 'mask.png'), encodeMaskPng(mask));
    await writeFile(join(fixtures, 'masks.csv'), `id,encoding\nsample,${rleEncode(mask)}\n`);
    // A data folder with two problems the dataset loader must name: a row without its slide, a slide that is not a TIFF.
    await mkdir(join(fixtures, 'kidney', 'train'), { recursive: true });
    await writeFile(join(fixtures, 'kidney', 'train.csv'), 'id,encoding\naaa,1 5\n');
    await writeFile(join(fixtures, 'kidney', 'train', 'bbb.tiff'), 'not a tiff');
    await mkdir(join(fixtures, 'slides'));
    await writeTinySlide(join(fixtures, 'slides', 'tiny.tiff'));
    await writeTinyModel(join(fixtures, 'model.safetensors'));

    app = await openApp(outDir);
    page = app.page;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await rm(outDir, { recursive: true, force: true });
    await rm(fixtures, { recursive: true, force: true });
  });

  it('runs doctor on navigator.gpu, typed into the console', async () => {
    const run = await typeCommand(page, 'nephron doctor --json');
    expect(run.argv).toEqual(['doctor', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(report).toMatchObject({ ok: true, host: 'browser', errors: [] });
    expect(report.selfTest).toMatchObject({ ok: true, elements: 1000, mismatches: 0, firstMismatch: null });

    const node = await runNode(['doctor', '--json']);
    expect(node.code).toBe(0);
    const nodeReport = JSON.parse(node.stdout) as DoctorReport;
    expect(Object.keys(report)).toEqual(Object.keys(nodeReport));
    expect(report.selfTest?.elements).toBe(nodeReport.selfTest?.elements);

    const text = await typeCommand(page, 'doctor');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^host {2,}browser$/m);
    expect(text.stdout).toMatch(/^self-test {2,}ok: 1000 values/m);
  });

  it('prints the same help, byte for byte, as the Node host', async () => {
    for (const line of ['--help', 'rle encode --help', 'help rle']) {
      const run = await typeCommand(page, line);
      const node = await runNode(line.split(' '));
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(node.stdout);
      expect(run.stdout).toContain('Usage: nephron');
    }
  });

  it('fails like the terminal: a file that was not picked, an unknown command, a bad option, an open quote', async () => {
    const missing = await typeCommand(page, 'rle encode --mask nowhere.png');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'nephron: nowhere.png: cannot read (no such file here: open it with "Files…" or "Folder…", or drop it on the page; nothing is picked yet)\n',
    );
    expect(await runNode(['rle', 'encode', '--mask', 'nowhere.png'])).toMatchObject({ code: 1 });

    for (const line of [
      'frobnicate',
      'rle decode --csv masks.csv --id sample --out x.png',
      'rle decode --depth 4',
    ]) {
      const run = await typeCommand(page, line);
      const node = await runNode(line.split(' '));
      expect(run.code).toBe(2);
      expect([run.stdout, run.stderr]).toEqual([node.stdout, node.stderr]);
    }
    const quote = await typeCommand(page, 'rle encode --mask "mask.png');
    expect([quote.code, quote.stderr]).toEqual([2, 'nephron: the double quote is never closed\n']);
  });

  it('reads a picked folder (input fallback) and the train button composes the line for a folder handle', async () => {
    // Without the File System Access API the folder comes from <input webkitdirectory>, keeping its paths.
    await page.evaluate(() => {
      delete (window as { showDirectoryPicker?: unknown }).showDirectoryPicker;
    });
    await chooseFiles(page, '#pick-folder', join(fixtures, 'kidney'));
    expect(
      await page.evaluate(() => (window as unknown as { nephron: NephronPage }).nephron.files.inputPaths()),
    ).toEqual(['kidney/train.csv', 'kidney/train/bbb.tiff']);
    const listed = await typeCommand(page, 'rle check --csv kidney/train.csv --info kidney/missing.csv');
    expect(listed.stderr).toContain('nephron: kidney/missing.csv: cannot read (no such file here');

    // With it, a folder is a handle whose files are read only when a command asks: here one in the private
    // file system, which is a real FileSystemDirectoryHandle, given out by the picker the button calls.
    const train = await clickAndRun(page, async () => {
      await page.evaluate(async () => {
        const root = await navigator.storage.getDirectory();
        const kidney = await root.getDirectoryHandle('kidney', { create: true });
        const write = async (folder: FileSystemDirectoryHandle, name: string, text: string) => {
          const writable = await (await folder.getFileHandle(name, { create: true })).createWritable();
          await writable.write(text);
          await writable.close();
        };
        await write(kidney, 'train.csv', 'id,encoding\naaa,1 5\n');
        await write(await kidney.getDirectoryHandle('train', { create: true }), 'bbb.tiff', 'not a tiff');
        (
          window as unknown as { showDirectoryPicker: () => Promise<FileSystemDirectoryHandle> }
        ).showDirectoryPicker = async () => kidney;
      });
      await page.click('#train');
    });
    expect(train.line).toBe('train --data kidney --out run');
    const node = await runNode(['train', '--data', 'kidney', '--out', 'run']);
    expect(node.code).toBe(1);
    expect(node.stderr).toContain('kidney');
    expect([train.code, train.stdout, train.stderr]).toEqual([node.code, node.stdout, node.stderr]);
  });

  it('encodes and decodes a picked mask exactly as the Node host does', async () => {
    await chooseFiles(page, '#pick-files', [join(fixtures, 'mask.png'), join(fixtures, 'masks.csv')]);
    await expect
      .poll(() => page.locator('#inputs li').allTextContents())
      .toEqual(['kidney/train.csv', 'kidney/train/bbb.tiff', 'mask.png', 'masks.csv']);

    for (const line of ['rle encode --mask mask.png', 'rle encode --mask ./mask.png --json']) {
      const run = await typeCommand(page, line);
      const node = await runNode(line.split(' '));
      expect([run.code, run.stderr]).toEqual([0, '']);
      expect(run.stdout).toBe(node.stdout);
    }
    expect((await typeCommand(page, 'rle encode --mask mask.png')).stdout).toBe(
      `${rleEncode(sampleMask())}\n`,
    );

    for (const depth of ['8', '1']) {
      const out = `decoded/sample-${depth}.png`;
      const line = `rle decode --csv masks.csv --id sample --width 37 --height 23 --depth ${depth} --out ${out}`;
      const run = await typeCommand(page, line);
      const node = await runNode(line.split(' '));
      expect([run.code, run.stderr]).toEqual([0, '']);
      expect(run.stdout).toBe(node.stdout);
      expect(run.stdout).toBe(
        `wrote ${out}: 37 x 23, ${sampleMask().countOnes()} pixels set (${((100 * sampleMask().countOnes()) / (37 * 23)).toFixed(2)}%)\n`,
      );
      const downloaded = await downloadOutput(page, out);
      expect(downloaded).toEqual(new Uint8Array(await readFile(join(fixtures, out))));
      // The output reads back from the private file system like any picked file.
      const again = await typeCommand(page, `rle encode --mask ${out}`);
      expect(again.stdout).toBe(`${rleEncode(sampleMask())}\n`);
    }
  });

  it('predicts with a picked model and slide as the Node host does, within GPU rounding', async () => {
    // SwiftShader, Chromium's CPU WebGPU, compiles the model's kernels for minutes on a busy machine.
    const run = await clickAndRun(
      page,
      () =>
        chooseFiles(page, '#predict', [
          join(fixtures, 'model.safetensors'),
          join(fixtures, 'slides', 'tiny.tiff'),
        ]),
      600_000,
    );
    expect(run.line).toBe('predict --model model.safetensors --images slides --out submission.csv');
    const node = await runNode(run.argv);
    expect(node.code).toBe(0);
    expect([run.code, run.stdout]).toEqual([0, node.stdout]);
    expect(run.stderr).toContain('1 slide(s), 1 model(s), downscale 1, tile 64');

    // Node runs on Dawn and Chromium on its own Vulkan driver: sums may round differently, so a pixel whose
    // probability sits on the threshold may flip. The two masks must still agree almost everywhere.
    const browserCsv = new TextDecoder().decode(await downloadOutput(page, 'submission.csv'));
    await writeFile(join(fixtures, 'browser-submission.csv'), browserCsv);
    const nodeCsv = await readFile(join(fixtures, 'submission.csv'), 'utf8');
    expect(browserCsv.split('\n')[0]).toBe('id,predicted');
    const score = await runNode([
      'score',
      '--pred',
      'browser-submission.csv',
      '--truth',
      'submission.csv',
      '--json',
    ]);
    expect(score.code).toBe(0);
    expect(JSON.parse(score.stdout).mean).toBeGreaterThan(0.99);
    console.log(
      `predict: browser ${browserCsv === nodeCsv ? 'equals' : 'differs from'} Node (Dice ${JSON.parse(score.stdout).mean}), ${Math.round(run.milliseconds)} ms in the page`,
    );
  }, 900_000);

  it('picks dropped files', async () => {
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['id,encoding\n'], 'dropped.csv'));
      document.dispatchEvent(
        new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }),
      );
    });
    await expect.poll(() => page.locator('#inputs li').allTextContents()).toContain('dropped.csv');
  });

  it('loaded nothing from anywhere but 127.0.0.1, threw no page errors, and looks right', async () => {
    await typeCommand(page, 'rle encode --mask mask.png');
    expect(app!.pageErrors).toEqual([]);
    expect(app!.requests.length).toBeGreaterThan(0);
    const elsewhere = app!.requests.filter(
      (url) => !url.startsWith(app!.server.url) && !/^(blob|data):/.test(url),
    );
    expect(elsewhere).toEqual([]);

    await mkdir(join(cliRoot, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: ARTIFACT });
  });
});
