import { describe, expect, it } from 'vitest';
import { BrowserFiles } from './browser-files.js';
import { memoryOutputs } from './browser-outputs.js';
import { normalizePath } from './browser-path.js';
import { hostDataFolder, readFileBytes } from './files.js';

const text = (value: string) => new TextEncoder().encode(value);
const read = async (files: BrowserFiles, path: string) =>
  new TextDecoder().decode(await readFileBytes(files, path));

function picked(): BrowserFiles {
  const files = new BrowserFiles(memoryOutputs());
  files.mount('mask.png', new File([text('png bytes')], 'mask.png'));
  const csv = new File([text('id,encoding\n')], 'train.csv');
  Object.defineProperty(csv, 'webkitRelativePath', { value: 'kidney/train.csv' });
  const tiff = new File([text('tiff')], 'a.tiff');
  Object.defineProperty(tiff, 'webkitRelativePath', { value: 'kidney/train/a.tiff' });
  files.mountFileList([csv, tiff]);
  return files;
}

describe('normalizePath', () => {
  it('gives one key for the ways a picked file may be named', () => {
    for (const path of ['mask.png', './mask.png', '/mask.png', 'data/../mask.png', '.\\mask.png']) {
      expect(normalizePath(path)).toBe('mask.png');
    }
    expect(normalizePath('kidney//train/./a.tiff')).toBe('kidney/train/a.tiff');
    expect(() => normalizePath('../secret')).toThrow('../secret: reaches above the picked files');
  });
});

describe('BrowserFiles', () => {
  it('reads picked files by name, and files of a picked folder by their path in it', async () => {
    const files = picked();
    expect(files.inputPaths()).toEqual(['kidney/train.csv', 'kidney/train/a.tiff', 'mask.png']);
    expect(await read(files, './mask.png')).toBe('png bytes');
    expect(await read(files, 'kidney/train/a.tiff')).toBe('tiff');
    const source = await files.open('kidney/train.csv');
    expect([source.name, source.size]).toEqual(['kidney/train.csv', 12]);
    expect(await source.read(3, 4)).toEqual(text('enco'));
  });

  it('lists folders as the dataset loader needs them', async () => {
    const files = picked();
    expect(await files.list('')).toEqual(['mask.png']);
    expect(await files.list('kidney')).toEqual(['train.csv']);
    expect(await files.list('kidney/train')).toEqual(['a.tiff']);
    expect(await files.list('kidney/test')).toBeUndefined();
    const folder = hostDataFolder(files, 'kidney');
    expect(await folder.list('train')).toEqual(['a.tiff']);
    expect(new TextDecoder().decode(await (await folder.open('train/a.tiff')).read(0, 4))).toBe('tiff');
  });

  it('writes outputs that read back, list with the picked files, and win over an older pick', async () => {
    const files = picked();
    await files.write('out/decoded.png', text('new'));
    await files.write('kidney/report.txt', 'report');
    expect(await read(files, 'out/decoded.png')).toBe('new');
    expect(await files.list('kidney')).toEqual(['report.txt', 'train.csv']);
    expect((await files.outputs.all()).map((output) => output.path)).toEqual([
      'kidney/report.txt',
      'out/decoded.png',
    ]);
    await files.write('mask.png', text('overwritten'));
    expect(await read(files, 'mask.png')).toBe('overwritten');
    files.mount('mask.png', new File([text('picked again')], 'mask.png'));
    expect(await read(files, 'mask.png')).toBe('picked again');
  });

  it('names the path and says how to pick a file that is not here', async () => {
    const files = picked();
    await expect(files.open('missing.png')).rejects.toThrow(
      /^missing\.png: cannot read \(no such file here: open it with "Files…" or "Folder…", or drop it on the page; picked: kidney\/train.csv, kidney\/train\/a.tiff, mask.png\)$/,
    );
    await expect(files.open('kidney/train')).rejects.toThrow(
      'kidney/train: cannot read (is a folder, not a file)',
    );
    await expect(files.write('kidney', 'x')).rejects.toThrow(
      'kidney: cannot write (is a folder, not a file)',
    );
    await expect(new BrowserFiles(memoryOutputs()).open('a.png')).rejects.toThrow('nothing is picked yet');
    await expect(files.open('missing.png')).rejects.toMatchObject({ name: 'FileError' });
  });
});
