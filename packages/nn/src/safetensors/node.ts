import type { Tensor } from '@nephron/tensor';
import { parseSafetensors, type SafetensorsFile } from './format.js';
import { loadSafetensors, type SaveOptions, saveSafetensors } from './tensors.js';

/**
 * Node file helpers for safetensors, kept apart from the byte-level code so that browser bundles never import
 * `node:fs`. Writes are atomic: a temporary file in the same folder is renamed over the target.
 */

export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  const { readFile } = await import('node:fs/promises');
  return parseSafetensors(await readBytes(readFile, path), path);
}

/** Reads a file and uploads its tensors. */
export async function loadSafetensorsFile(
  path: string,
): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  const { readFile } = await import('node:fs/promises');
  return loadSafetensors(await readBytes(readFile, path), path);
}

export async function saveSafetensorsFile(
  path: string,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  options: SaveOptions = {},
): Promise<void> {
  await writeFileAtomic(path, await saveSafetensors(tensors, options));
}

async function readBytes(readFile: (path: string) => Promise<Uint8Array>, path: string): Promise<Uint8Array> {
  const buffer = await readFile(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Readers see the old file or the whole new one, never a partial write. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const fs = await import('node:fs/promises');
  const nodePath = await import('node:path');
  const temp = nodePath.join(
    nodePath.dirname(path),
    `.${nodePath.basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`,
  );
  const handle = await fs.open(temp, 'wx');
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
