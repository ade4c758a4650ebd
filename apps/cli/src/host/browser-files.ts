import { blobSource, type RangeSource } from '@nephron/io';
import { defaultOutputs, folderEntries, type OutputStore } from './browser-outputs.js';
import { normalizePath, splitPath } from './browser-path.js';
import { FileError, type HostFiles } from './files.js';

/** A picked or dropped file: the File itself, or a handle that gives its current content when asked. */
export type InputFile = File | FileSystemFileHandle;

/** How the page tells users where to put a file a command could not find. */
export const PICK_HINT = 'open it with "Files…" or "Folder…", or drop it on the page';

/**
 * The files of a web page as commands see them. Inputs are files and folders the user picked or dropped,
 * each under the path it had on the user's disk relative to what was picked (`mask.png`,
 * `kidney/train/aaa.tiff`); outputs go to an {@link OutputStore}. A path names the newest of the two: a
 * write replaces a picked file of the same path, and picking a file again replaces an older output.
 */
export class BrowserFiles implements HostFiles {
  private readonly inputs = new Map<string, InputFile>();

  constructor(readonly outputs: OutputStore) {}

  /** Files whose outputs live in the Origin Private File System where the browser has it. */
  static async create(): Promise<BrowserFiles> {
    return new BrowserFiles(await defaultOutputs());
  }

  /** Makes a picked file readable under `path`; returns the path as commands must spell it. */
  mount(path: string, file: InputFile): string {
    const key = normalizePath(path);
    if (key === '') throw new FileError(`"${path}": a picked file needs a name`);
    this.inputs.set(key, file);
    return key;
  }

  /** Mounts files from `<input type=file>`; files of a picked folder keep their path inside it. */
  mountFileList(files: Iterable<File>): string[] {
    return [...files].map((file) => this.mount(file.webkitRelativePath || file.name, file));
  }

  /** Mounts every file of a folder handle (File System Access API) under `prefix`, without reading any. */
  async mountFolder(folder: FileSystemDirectoryHandle, prefix = folder.name): Promise<string[]> {
    const paths: string[] = [];
    for await (const [name, handle] of folderEntries(folder)) {
      const path = `${prefix}/${name}`;
      if (handle.kind === 'directory') paths.push(...(await this.mountFolder(handle, path)));
      else paths.push(this.mount(path, handle));
    }
    return paths;
  }

  /** Paths of the picked files, sorted. */
  inputPaths(): string[] {
    return [...this.inputs.keys()].sort();
  }

  /** The picked file at a path, if any (for the page's own listing). */
  async inputFile(path: string): Promise<File | undefined> {
    const input = this.inputs.get(normalizePath(path));
    return input instanceof Blob || input === undefined ? input : input.getFile();
  }

  async open(path: string): Promise<RangeSource> {
    const key = normalizePath(path);
    const input = this.inputs.get(key);
    if (input !== undefined) {
      const file = input instanceof Blob ? input : await input.getFile().catch(unreadable(path));
      return blobSource(file, path);
    }
    const output = await this.outputs.read(key);
    if (output !== undefined) return blobSource(output, path);
    if ((await this.list(key)) !== undefined)
      throw new FileError(`${path}: cannot read (is a folder, not a file)`);
    throw new FileError(`${path}: cannot read (no such file here: ${PICK_HINT}${this.picked()})`);
  }

  async write(path: string, data: Uint8Array | string): Promise<void> {
    const key = normalizePath(path);
    if (key === '' || this.isInputFolder(key))
      throw new FileError(`${path}: cannot write (is a folder, not a file)`);
    await this.outputs.write(key, data);
    this.inputs.delete(key);
  }

  async list(folder: string): Promise<string[] | undefined> {
    const key = normalizePath(folder);
    const prefix = key === '' ? '' : `${key}/`;
    const picked = [...this.inputs.keys()].filter((path) => path.startsWith(prefix));
    const written = await this.outputs.list(key);
    if (picked.length === 0 && written === undefined) return undefined;
    const names = new Set(written);
    for (const path of picked) {
      const [parent, name] = splitPath(path);
      if (parent === key) names.add(name);
    }
    return [...names].sort();
  }

  private isInputFolder(key: string): boolean {
    return [...this.inputs.keys()].some((path) => path.startsWith(`${key}/`));
  }

  /** A reminder of what was picked, for a message about a file that was not. */
  private picked(): string {
    const paths = this.inputPaths();
    if (paths.length === 0) return '; nothing is picked yet';
    const shown = paths.slice(0, 5).join(', ');
    return `; picked: ${shown}${paths.length > 5 ? ` and ${paths.length - 5} more` : ''}`;
  }
}

/** A handle whose file was moved or deleted since it was picked. */
function unreadable(path: string) {
  return (error: Error): never => {
    throw new FileError(`${path}: cannot read (${error.message || error.name}; pick it again)`);
  };
}
