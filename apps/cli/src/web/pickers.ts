import type { BrowserFiles } from '../host/browser-files.js';

/** The folder picker of the File System Access API, where the browser has it (Chromium browsers do). */
type DirectoryPicker = (options?: { id?: string; mode?: 'read' }) => Promise<FileSystemDirectoryHandle>;

/**
 * Waits for the user's choice in an `<input type=file>`: the chosen files, or none when the dialog is
 * cancelled. Listeners of an earlier, unanswered wait are removed so a choice is answered once.
 */
export function chooseWithInput(input: HTMLInputElement): Promise<File[]> {
  return new Promise((resolve) => {
    const done = new AbortController();
    const answer = (files: File[]) => {
      done.abort();
      resolve(files);
    };
    input.value = '';
    input.addEventListener('change', () => answer([...(input.files ?? [])]), { signal: done.signal });
    input.addEventListener('cancel', () => answer([]), { signal: done.signal });
    input.click();
  });
}

/**
 * Lets the user pick a folder and mounts its files under the folder's name. The File System Access API
 * hands over the folder without reading it; elsewhere `<input webkitdirectory>` lists every file first.
 */
export async function pickFolder(files: BrowserFiles, fallback: HTMLInputElement): Promise<string[]> {
  const picker = (window as unknown as { showDirectoryPicker?: DirectoryPicker }).showDirectoryPicker;
  if (picker) {
    try {
      return await files.mountFolder(await picker({ id: 'nephron-data', mode: 'read' }));
    } catch (error) {
      if ((error as Error).name === 'AbortError') return [];
      throw error;
    }
  }
  return files.mountFileList(await chooseWithInput(fallback));
}

/** The few parts of the (old but everywhere) File and Directory Entries API that a drop needs. */
interface Entry {
  readonly isDirectory: boolean;
  readonly fullPath: string;
  file?(resolve: (file: File) => void, reject: (error: Error) => void): void;
  createReader?(): { readEntries(resolve: (entries: Entry[]) => void, reject: (error: Error) => void): void };
}

async function entryFiles(entry: Entry): Promise<{ path: string; file: File }[]> {
  if (!entry.isDirectory) {
    const file = await new Promise<File>((resolve, reject) => entry.file?.(resolve, reject));
    return [{ path: entry.fullPath, file }];
  }
  const reader = entry.createReader?.();
  const found: { path: string; file: File }[] = [];
  // A folder reader hands out entries in batches until it hands out an empty one.
  for (;;) {
    const batch = await new Promise<Entry[]>((resolve, reject) => reader?.readEntries(resolve, reject));
    if (batch.length === 0) return found;
    for (const child of batch) found.push(...(await entryFiles(child)));
  }
}

/**
 * Mounts what was dropped on the page: files under their names, folders with everything in them. The
 * items of a drop are readable only while its event is being handled, so they are taken out first.
 */
export function mountDrop(files: BrowserFiles, transfer: DataTransfer): Promise<string[]> {
  const items = [...transfer.items]
    .filter((item) => item.kind === 'file')
    .map((item) => ({ entry: item.webkitGetAsEntry() as Entry | null, file: item.getAsFile() }));
  return (async () => {
    const paths: string[] = [];
    for (const { entry, file } of items) {
      if (entry?.isDirectory) {
        for (const found of await entryFiles(entry)) paths.push(files.mount(found.path, found.file));
      } else if (file) {
        paths.push(files.mount(file.name, file));
      }
    }
    return paths;
  })();
}
