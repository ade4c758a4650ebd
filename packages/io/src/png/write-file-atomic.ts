/**
 * Writes a file so that readers see either the old file or the whole new one, never a partial write:
 * the data goes to a temporary file in the same folder, which is then renamed over the target. On failure
 * the temporary file is removed and the target is untouched. Node only (imported lazily, so that browser
 * bundles of this package do not pull in `node:fs`).
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string | Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>,
): Promise<void> {
  const fs = await import('node:fs/promises');
  const nodePath = await import('node:path');
  const dir = nodePath.dirname(path);
  const temp = nodePath.join(
    dir,
    `.${nodePath.basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`,
  );
  // Node's own message would name the temporary file, which the user never asked for.
  const cannotWrite = (error: unknown): Error => {
    const e = error as NodeJS.ErrnoException;
    return new Error(`${path}: cannot write (${e.code ?? e.message})`, { cause: error });
  };
  const handle = await fs.open(temp, 'wx').catch((error: unknown) => {
    throw cannotWrite(error);
  });
  try {
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) {
        await handle.writeFile(data);
      } else {
        for await (const piece of data as AsyncIterable<Uint8Array | string>) {
          if (typeof piece === 'string') await handle.write(piece);
          else await handle.write(piece);
        }
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw (error as NodeJS.ErrnoException).code === undefined ? error : cannotWrite(error);
  }
}

/** `.<name>.<pid>.<time>.tmp`, the temporary files `writeFileAtomic` renames into place. */
const TEMPORARY = /^\.(.+)\.(\d+)\.[0-9a-z]+\.tmp$/;

/**
 * Removes the temporary files that writes in `dir` left behind when their process was killed between opening the
 * temporary and renaming it (SIGKILL, power loss). Only files whose writer is no longer running go; a live
 * process's write in progress is left alone. Returns the names removed.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const fs = await import('node:fs/promises');
  const nodePath = await import('node:path');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (!match || isRunning(Number(match[2]))) continue;
    await fs.rm(nodePath.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
