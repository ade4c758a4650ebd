import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { BitMask } from '../masks/bit-mask.js';
import { Mask } from '../masks/mask.js';
import { decodeMaskPng, encodeMaskPng } from './mask-png.js';
import { readMaskPng, writeMaskPng } from './mask-png-file.js';
import { writeFileAtomic } from './write-file-atomic.js';

const dir = mkdtempSync(join(tmpdir(), 'nephron-png-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(): Mask {
  const mask = new Mask(37, 5);
  for (let i = 0; i < mask.data.length; i++) mask.data[i] = (i * 7) % 5 < 2 ? 1 : 0;
  return mask;
}

describe('mask PNG', () => {
  it('round-trips at 8 and 1 bit depth, from Mask and BitMask', () => {
    const mask = sample();
    expect(decodeMaskPng(encodeMaskPng(mask)).data).toEqual(mask.data);
    expect(decodeMaskPng(encodeMaskPng(BitMask.from(mask), { depth: 1 })).data).toEqual(mask.data);
  });

  it('reads masks other tools write: 0/1 grey, RGBA, 16-bit and palette', () => {
    const mask = sample();
    const { width, height } = mask;
    const rgba = new Uint8Array(width * height * 4);
    mask.data.forEach((v, i) => {
      rgba[4 * i] = v * 200;
      rgba[4 * i + 3] = 255; // opaque everywhere: alpha must not count as foreground
    });
    expect(decodeMaskPng(encode({ width, height, data: rgba, channels: 4 })).data).toEqual(mask.data);
    expect(decodeMaskPng(encode({ width, height, data: mask.data, channels: 1 })).data).toEqual(mask.data);
    const deep = Uint16Array.from(mask.data, (v) => v * 65535);
    expect(decodeMaskPng(encode({ width, height, data: deep, channels: 1, depth: 16 })).data).toEqual(
      mask.data,
    );
    const palette = encode({
      width,
      height,
      data: mask.data,
      channels: 1,
      depth: 8,
      palette: [
        [0, 0, 0],
        [255, 255, 0],
      ],
    });
    expect(decodeMaskPng(palette).data).toEqual(mask.data);
  });

  it('names the file when the bytes are not a PNG', () => {
    expect(() => decodeMaskPng(new Uint8Array([1, 2, 3]), 'mask.png')).toThrow(
      /^mask.png: not a readable PNG/,
    );
  });

  it('writes files atomically and reads them back', async () => {
    const path = join(dir, 'mask.png');
    await writeMaskPng(path, sample());
    expect((await readMaskPng(path)).data).toEqual(sample().data);
    await writeFileAtomic(join(dir, 'text.txt'), ['a', 'b', new TextEncoder().encode('c')]);
    expect(readFileSync(join(dir, 'text.txt'), 'utf8')).toBe('abc');
    // A failing source leaves neither the target nor a temporary file behind.
    async function* failing() {
      yield 'partial';
      throw new Error('source broke');
    }
    await expect(writeFileAtomic(join(dir, 'broken.txt'), failing())).rejects.toThrow('source broke');
    expect(readdirSync(dir).sort()).toEqual(['mask.png', 'text.txt']);
  });
});
