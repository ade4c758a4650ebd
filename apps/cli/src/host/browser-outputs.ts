import { splitPath } from './browser-path.js';
import { FileError } from './files.js';

/** A written file and where it lives, for listing and download links. */
export interface OutputFile {
  path: string;
  file: File;
}

/**
 * Where the browser host keeps the files commands write. Paths are normalized (see browser-path.ts). The
 * Origin Private File System keeps them across reloads; memory is the fallback where a browser offers no
 * writable private file system (private windows of some browsers).
 */
export interface OutputStore {
  /** 'private file system' or 'memory', shown to the user so they know whether outputs survive a reload. */
  readonly kind: string;
  read(path: string): Promise<File | undefined>;
  write(path: string, data: Uint8Array | string): Promise<void>;
  /** Names of the files directly in a folder, or undefined when nothing was ever written there. */
  list(folder: string): Promise<string[] | undefined>;
  /** Every file, sorted by path. */
  all(): Promise<OutputFile[]>;
  /** Deletes every file. */
  clear(): Promise<void>;
}

/** The bytes of a write as a Blob part (a view on a shared buffer is copied, as Blob requires). */
function blobPart(data: Uint8Array | string): BlobPart {
  if (typeof data === 'string') return data;
  return data.buffer instanceof ArrayBuffer ? (data as Uint8Array<ArrayBuffer>) : new Uint8Array(data);
}

/** Outputs held in memory: lost on reload, but every browser can do it. */
export function memoryOutputs(): OutputStore {
  const files = new Map<string, File>();
  return {
    kind: 'memory',
    read: async (path) => files.get(path),
    async write(path, data) {
      files.set(path, new File([blobPart(data)], splitPath(path)[1]));
    },
    async list(folder) {
      const prefix = folder === '' ? '' : `${folder}/`;
      const paths = [...files.keys()].filter((path) => path.startsWith(prefix));
      if (paths.length === 0) return undefined;
      return paths.map((path) => path.slice(prefix.length)).filter((rest) => !rest.includes('/'));
    },
    all: async () =>
      [...files.entries()].map(([path, file]) => ({ path, file })).sort((a, b) => cmp(a.path, b.path)),
    async clear() {
      files.clear();
    },
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The async iteration that browsers have on folder handles (TypeScript's DOM library leaves it out). */
type Entries = AsyncIterable<[string, FileSystemDirectoryHandle | FileSystemFileHandle]>;
export function folderEntries(folder: FileSystemDirectoryHandle): Entries {
  return (folder as unknown as { entries(): Entries }).entries();
}

const MISSING = new Set(['NotFoundError', 'TypeMismatchError']);

/** Why a private-file-system call failed, in words. */
function reason(error: unknown): string {
  const name = (error as Error).name;
  if (name === 'QuotaExceededError') return "the browser's storage for this page is full";
  if (name === 'TypeMismatchError')
    return 'a part of the path is a file where a folder is needed, or a folder where a file is';
  if (name === 'NoModificationAllowedError') return 'another tab is writing the same file';
  return (error as Error).message || name;
}

/**
 * Outputs in the Origin Private File System under `root`. Each write goes through `createWritable`, whose
 * data the browser keeps in a side file until `close()` swaps it in: readers see the old file or all of
 * the new one, never a part, which is the same promise the Node host keeps with a temporary file and rename.
 */
export function privateFileSystemOutputs(root: FileSystemDirectoryHandle): OutputStore {
  async function folderOf(folder: string, create: boolean): Promise<FileSystemDirectoryHandle | undefined> {
    let handle = root;
    for (const name of folder === '' ? [] : folder.split('/')) {
      try {
        handle = await handle.getDirectoryHandle(name, { create });
      } catch (error) {
        if (!create && MISSING.has((error as Error).name)) return undefined;
        throw error;
      }
    }
    return handle;
  }

  async function walk(folder: FileSystemDirectoryHandle, prefix: string, into: OutputFile[]): Promise<void> {
    for await (const [name, handle] of folderEntries(folder)) {
      if (handle.kind === 'directory') await walk(handle, `${prefix}${name}/`, into);
      else into.push({ path: `${prefix}${name}`, file: await handle.getFile() });
    }
  }

  async function read(path: string): Promise<File | undefined> {
    const [folder, name] = splitPath(path);
    const handle = await folderOf(folder, false);
    try {
      return await (await handle?.getFileHandle(name))?.getFile();
    } catch (error) {
      if (MISSING.has((error as Error).name)) return undefined;
      throw error;
    }
  }

  return {
    kind: 'private file system',
    read,
    async write(path, data) {
      const [folder, name] = splitPath(path);
      let created = false;
      let file: FileSystemFileHandle | undefined;
      try {
        const handle = (await folderOf(folder, true)) as FileSystemDirectoryHandle;
        created = (await read(path)) === undefined;
        file = await handle.getFileHandle(name, { create: true });
        const writable = await file.createWritable();
        try {
          await writable.write(blobPart(data));
          await writable.close();
        } catch (error) {
          await writable.abort().catch(() => {});
          throw error;
        }
      } catch (error) {
        // A file that only exists because of this failed write would be a partial output: remove it.
        if (created && file) await (await folderOf(folder, false))?.removeEntry(name).catch(() => {});
        throw new FileError(`${path}: cannot write (${reason(error)})`);
      }
    },
    async list(folder) {
      const handle = await folderOf(folder, false);
      if (!handle) return undefined;
      const names: string[] = [];
      for await (const [name, entry] of folderEntries(handle)) if (entry.kind === 'file') names.push(name);
      return names;
    },
    async all() {
      const files: OutputFile[] = [];
      await walk(root, '', files);
      return files.sort((a, b) => cmp(a.path, b.path));
    },
    async clear() {
      for await (const [name] of folderEntries(root)) await root.removeEntry(name, { recursive: true });
    },
  };
}

/**
 * The private file system's folder for nephron's outputs when the browser offers one with writable
 * streams, else memory.
 */
export async function defaultOutputs(folderName = 'nephron-outputs'): Promise<OutputStore> {
  try {
    const storage = (globalThis.navigator as Navigator | undefined)?.storage;
    if (!storage?.getDirectory) return memoryOutputs();
    const root = await (await storage.getDirectory()).getDirectoryHandle(folderName, { create: true });
    if (typeof FileSystemFileHandle === 'undefined' || !('createWritable' in FileSystemFileHandle.prototype))
      return memoryOutputs();
    return privateFileSystemOutputs(root);
  } catch {
    return memoryOutputs();
  }
}
