import { fileSource } from '@nephron/io';
import type { HostFiles } from './files.js';

/** A file that cannot be read or written; the message names the path and says why in words. */
export class FileError extends Error {
  override readonly name = 'FileError';
}

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
        await fs.writeFile(temp, data, { flag: 'wx' });
        await fs.rename(temp, path);
      } catch (error) {
        await fs.rm(temp, { force: true });
        throw fileError(path, 'write', error);
      }
    },
  };
}
