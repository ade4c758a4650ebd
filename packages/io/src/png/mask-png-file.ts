import type { BinaryMask } from '../masks/binary-mask.js';
import type { Mask } from '../masks/mask.js';
import { decodeMaskPng, encodeMaskPng, type MaskPngOptions } from './mask-png.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** Reads a mask PNG from disk (Node only). */
export async function readMaskPng(path: string): Promise<Mask> {
  const fs = await import('node:fs/promises');
  return decodeMaskPng(await fs.readFile(path), path);
}

/** Writes a mask PNG atomically (Node only). */
export async function writeMaskPng(
  path: string,
  mask: BinaryMask,
  options: MaskPngOptions = {},
): Promise<void> {
  await writeFileAtomic(path, encodeMaskPng(mask, options));
}
