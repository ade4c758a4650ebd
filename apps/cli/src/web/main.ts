// The browser app: a console for nephron's command lines and buttons that compose the common ones.
import { BrowserFiles } from '../host/browser-files.js';
import { VERSION } from '../version.js';
import { NephronApp, type RunResult } from './app.js';
import { PICKED_SLIDES, predictLine, sortPredictPick, topFolder, trainLine } from './compose.js';
import { ConsoleView, History } from './console-view.js';
import { FilePanel } from './file-panel.js';
import { chooseWithInput, mountDrop, pickFolder } from './pickers.js';

/** What the page offers scripts and its tests. */
export interface NephronPage {
  app: NephronApp;
  files: BrowserFiles;
  runs: RunResult[];
  run(line: string): Promise<RunResult>;
}

declare global {
  interface Window {
    nephron: NephronPage;
  }
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

/** Says in the header whether this browser has WebGPU, before any command asks for it. */
async function showGpu(badge: HTMLElement): Promise<void> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  if (!adapter) {
    badge.textContent = 'WebGPU: not available in this browser';
    badge.classList.add('bad');
    return;
  }
  const { vendor, architecture, description } = adapter.info;
  badge.textContent = `WebGPU: ${[vendor, architecture].filter(Boolean).join(' ') || description || 'available'}`;
  badge.classList.add('good');
}

async function start(): Promise<void> {
  const files = await BrowserFiles.create();
  const view = new ConsoleView(element('log'));
  const panel = new FilePanel(files, element('inputs'), element('outputs'), element('output-kind'));
  const app = new NephronApp(files, view, panel);
  window.nephron = { app, files, runs: app.runs, run: (line) => app.run(line) };

  const input = element<HTMLInputElement>('command');
  const history = new History();
  element<HTMLFormElement>('prompt').addEventListener('submit', (event) => {
    event.preventDefault();
    const line = input.value.trim();
    if (line === '') return;
    history.add(line);
    input.value = '';
    void app.run(line);
  });
  element('stop').addEventListener('click', () => app.interrupt());
  input.addEventListener('keydown', (event) => {
    // Ctrl+C with nothing selected stops the running command, as in a terminal; with a selection it copies.
    if (event.key === 'c' && event.ctrlKey && input.selectionStart === input.selectionEnd) {
      if (document.body.dataset.state === 'running') app.interrupt();
      return;
    }
    if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
    event.preventDefault();
    input.value = (event.key === 'ArrowUp' ? history.previous() : history.next()) ?? input.value;
  });

  // Errors of the pickers themselves (a folder the browser refuses to open) go to the console.
  const guarded = (action: () => Promise<void>) => () => {
    action().catch((error: Error) => app.note(`${error.name}: ${error.message}`, 'error'));
  };
  element('pick-files').addEventListener(
    'click',
    guarded(async () => app.picked(files.mountFileList(await chooseWithInput(element('files-input'))))),
  );
  element('pick-folder').addEventListener(
    'click',
    guarded(async () => app.picked(await pickFolder(files, element('folder-input')))),
  );
  element('train').addEventListener(
    'click',
    guarded(async () => {
      const paths = await pickFolder(files, element('train-input'));
      if (paths.length === 0) return;
      await app.picked(paths);
      const folder = topFolder(paths);
      if (folder === undefined) app.note('pick a folder with the data in it (train.csv, train/…)', 'error');
      else await app.run(trainLine(folder));
    }),
  );
  element('predict').addEventListener(
    'click',
    guarded(async () => {
      const chosen = await chooseWithInput(element('predict-input'));
      if (chosen.length === 0) return;
      const { models, slides } = sortPredictPick(chosen.map((file) => file.name));
      if (models.length !== 1 || slides.length === 0) {
        app.note('pick one model (.safetensors) and at least one slide (.tif or .tiff) together', 'error');
        return;
      }
      const paths = chosen.map((file) =>
        files.mount(slides.includes(file.name) ? `${PICKED_SLIDES}/${file.name}` : file.name, file),
      );
      await app.picked(paths);
      await app.run(predictLine(models[0]));
    }),
  );
  element('clear-outputs').addEventListener(
    'click',
    guarded(async () => {
      await files.outputs.clear();
      await app.refresh();
    }),
  );

  const overlay = element('drop-overlay');
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    overlay.hidden = false;
  });
  document.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) overlay.hidden = true;
  });
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    overlay.hidden = true;
    if (event.dataTransfer) guarded(async () => app.picked(await mountDrop(files, event.dataTransfer!)))();
  });

  app.note(
    `nephron ${VERSION}, the same command line as in a terminal. Try "doctor" or "help"; pick or drop ` +
      'files and use their names as paths. Outputs are listed on the right with download links.',
  );
  await panel.refresh();
  document.body.dataset.state = 'idle';
  input.focus();
  await showGpu(element('gpu-status'));
}

start().catch((error: Error) => {
  document.body.dataset.state = 'failed';
  element('log').textContent = `The page could not start: ${error.message}`;
});
