import type { DataFolder } from '@nephron/hubmap';
import type { RangeSource } from '@nephron/io';

/** A file that cannot be read or written; the message names the path and says why in words. */
export class FileError extends Error {
  override readonly name = 'FileError';
}

/**
 * The files a command reads and writes. Reads are by byte range, so a multi-gigabyte slide is never held
 * whole; writes are whole and atomic, so a failed command leaves no half-written output. The Node host
 * maps paths to the disk; a browser host maps them to picked files and its private file system.
 */
export interface HostFiles {
  /** Opens a file for ranged reads; fails with a message naming the path when it cannot. */
  open(path: string): Promise<RangeSource>;
  /** Writes a file so that readers see the old content or all of the new, never a part. */
  write(path: string, data: Uint8Array | string): Promise<void>;
  /** Names of the plain files directly in a folder ('' for the current one), or undefined when there is no such folder. */
  list(folder: string): Promise<string[] | undefined>;
}

/** A folder of the host's files as the dataset loader sees it, so `train` reads a picked folder as it reads a disk. */
export function hostDataFolder(files: HostFiles, folder: string): DataFolder {
  const join = (path: string) => {
    if (path === '') return folder;
    if (folder === '' || folder === '.') return path;
    return folder.endsWith('/') ? `${folder}${path}` : `${folder}/${path}`;
  };
  return {
    name: folder,
    list: (subdir) => files.list(join(subdir)),
    open: (path) => files.open(join(path)),
  };
}

/** The bytes of a file in pieces, for streaming parsers (CSV); the file is closed at the end. */
export async function* fileChunks(
  files: HostFiles,
  path: string,
  chunk = 1 << 20,
): AsyncGenerator<Uint8Array> {
  const source = await files.open(path);
  try {
    for (let offset = 0; offset < source.size; offset += chunk) {
      yield await source.read(offset, Math.min(chunk, source.size - offset));
    }
  } finally {
    await source.close();
  }
}

/** The whole of a (small) file. */
export async function readFileBytes(files: HostFiles, path: string): Promise<Uint8Array> {
  const source = await files.open(path);
  try {
    return await source.read(0, source.size);
  } finally {
    await source.close();
  }
}
