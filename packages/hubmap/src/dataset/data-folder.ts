import { fileSource, type RangeSource } from '@nephron/io';

/**
 * A dataset folder as the loader sees it: names of files and byte ranges of them. Node reads a directory;
 * a browser can offer a picked folder the same way, so one loader serves both.
 */
export interface DataFolder {
  /** The folder as users name it (a path), for messages. */
  readonly name: string;
  /** Names of the plain files directly in `subdir` ('' for the top), or undefined when there is no such folder. */
  list(subdir: string): Promise<string[] | undefined>;
  /** Opens a file given relative to the folder ('train/x.tiff') for ranged reads. */
  open(path: string): Promise<RangeSource>;
}

/** A folder on the local disk (Node only; `node:fs` is loaded lazily for browser bundles). */
export function nodeDataFolder(dir: string): DataFolder {
  return {
    name: dir,
    async list(subdir) {
      const fs = await import('node:fs/promises');
      const path = await import('node:path');
      try {
        const folder = path.join(dir, subdir);
        const entries = await fs.readdir(folder, { withFileTypes: true });
        const names: string[] = [];
        for (const entry of entries) {
          // A linked file counts as the file it points to (datasets are often assembled from links).
          const isFile =
            entry.isFile() ||
            (entry.isSymbolicLink() &&
              (await fs.stat(path.join(folder, entry.name)).catch(() => undefined))?.isFile());
          if (isFile) names.push(entry.name);
        }
        return names;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw error;
      }
    },
    async open(file) {
      const path = await import('node:path');
      return fileSource(path.join(dir, file));
    },
  };
}

/** The bytes of a source in pieces of `chunk` bytes, for streaming parsers (CSV). */
export async function* sourceChunks(source: RangeSource, chunk = 1 << 20): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < source.size; offset += chunk) {
    yield await source.read(offset, Math.min(chunk, source.size - offset));
  }
}

/** The whole of a (small) source as text, and closes it. */
export async function readSourceText(source: RangeSource): Promise<string> {
  try {
    return new TextDecoder('utf-8').decode(await source.read(0, source.size));
  } finally {
    await source.close();
  }
}
