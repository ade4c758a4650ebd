import type { BrowserFiles } from '../host/browser-files.js';

/** A size people read at a glance: 930 B, 12.4 KiB, 3.1 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * The lists of picked files and of outputs. Each output gets a download link to a blob URL of the file in
 * the private file system; links from the previous listing are revoked so their memory is let go.
 */
export class FilePanel {
  private urls: string[] = [];

  constructor(
    private readonly files: BrowserFiles,
    private readonly inputs: HTMLElement,
    private readonly outputs: HTMLElement,
    outputKind: HTMLElement,
  ) {
    outputKind.textContent =
      files.outputs.kind === 'memory'
        ? '(in memory: download them before closing the page)'
        : '(kept in this browser)';
  }

  async refresh(): Promise<void> {
    // Folders of thousands of tiles stay readable: show the first hundred picked paths.
    const paths = this.files.inputPaths();
    const shown = paths.slice(0, 100).map((path) => item(path));
    if (paths.length > shown.length) shown.push(item(`… and ${paths.length - shown.length} more`));
    this.inputs.replaceChildren(...(shown.length > 0 ? shown : [empty()]));

    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
    const written = await this.files.outputs.all();
    this.outputs.replaceChildren(
      ...(written.length > 0
        ? written.map(({ path, file }) => {
            const url = URL.createObjectURL(file);
            this.urls.push(url);
            const link = document.createElement('a');
            link.href = url;
            link.download = path.split('/').at(-1) ?? path;
            link.textContent = path;
            link.dataset.path = path;
            return item(link, formatBytes(file.size));
          })
        : [empty()]),
    );
  }
}

function item(content: string | HTMLElement, detail?: string): HTMLLIElement {
  const li = document.createElement('li');
  li.append(content);
  if (detail !== undefined) {
    const small = document.createElement('small');
    small.textContent = detail;
    li.append(' ', small);
  }
  return li;
}

function empty(): HTMLLIElement {
  const li = item('nothing yet');
  li.className = 'empty';
  return li;
}
