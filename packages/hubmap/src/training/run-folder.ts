/**
 * Where a training run keeps its files. Every write is atomic (readers see the old file or the new one, never half),
 * so a process killed at any moment leaves loadable checkpoints. Node writes to disk; a browser host can keep the
 * same files in the Origin Private File System.
 */
export interface RunFolder {
  readonly name: string;
  write(file: string, data: Uint8Array | string): Promise<void>;
  read(file: string): Promise<Uint8Array | undefined>;
}

export function nodeRunFolder(dir: string): RunFolder {
  return {
    name: dir,
    async write(file, data) {
      const { mkdir } = await import('node:fs/promises');
      const { dirname, join } = await import('node:path');
      const { writeFileAtomic } = await import('@nephron/io');
      const path = join(dir, file);
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, data);
    },
    async read(file) {
      const { readFile } = await import('node:fs/promises');
      const { join } = await import('node:path');
      try {
        return new Uint8Array(await readFile(join(dir, file)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}

/** A run folder in memory, for tests and the browser's first cut. */
export function memoryRunFolder(name = 'memory'): RunFolder & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  return {
    name,
    files,
    async write(file, data) {
      files.set(file, typeof data === 'string' ? new TextEncoder().encode(data) : data.slice());
    },
    async read(file) {
      return files.get(file)?.slice();
    },
  };
}
