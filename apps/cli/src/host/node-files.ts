import { fileSource, removeStaleTemporaries } from '@nephron/io';
import { FileError, type HostFiles } from './files.js';

export { FileError };

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'the disk is full',
  EROFS: 'the file system is read-only',
};

function fileError(path: string, doing: string, error: unknown): FileError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = (code && REASONS[code]) ?? code ?? (error as Error).message;
  return new FileError(`${path}: cannot ${doing} (${reason})`);
}

/** Files on the local disk. Writes go to a temporary file in the same folder, then are renamed over the target. */
export function nodeFiles(): HostFiles {
  // Folders this process has written to: the first write in each clears what killed runs left there.
  const swept = new Set<string>();
  return {
    async open(path) {
      const fs = await import('node:fs/promises');
      const stat = await fs.stat(path).catch((error: unknown) => {
        throw fileError(path, 'read', error);
      });
      if (stat.isDirectory()) throw new FileError(`${path}: cannot read (${REASONS.EISDIR})`);
      return fileSource(path);
    },
    async write(path, data) {
      const fs = await import('node:fs/promises');
      const { basename, dirname, join } = await import('node:path');
      const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
      try {
        // Output folders (a training run, per-slide results) are created on first write.
        await fs.mkdir(dirname(path), { recursive: true });
        if (!swept.has(dirname(path))) {
          swept.add(dirname(path));
          await removeStaleTemporaries(dirname(path));
        }
        await fs.writeFile(temp, data, { flag: 'wx' });
        await fs.rename(temp, path);
      } catch (error) {
        await fs.rm(temp, { force: true });
        throw fileError(path, 'write', error);
      }
    },
    async list(folder) {
      const fs = await import('node:fs/promises');
      const { join } = await import('node:path');
      const dir = folder === '' ? '.' : folder;
      try {
        const names: string[] = [];
        for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
          // A linked file counts as the file it points to (datasets are often assembled from links).
          const isFile =
            entry.isFile() ||
            (entry.isSymbolicLink() &&
              (await fs.stat(join(dir, entry.name)).catch(() => undefined))?.isFile());
          if (isFile) names.push(entry.name);
        }
        return names;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw fileError(folder, 'list', error);
      }
    },
  };
}
