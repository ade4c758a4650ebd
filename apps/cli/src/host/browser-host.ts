import { requestDevice } from '@nephron/tensor';
import type { HostFiles } from './files.js';
import type { Host, OutputStream } from './host.js';
import type { ProgressFactory } from './progress.js';

export interface BrowserHostOptions {
  /** Where the command's output goes: the page's console, which also keeps it for tests. */
  stdout: OutputStream;
  stderr: OutputStream;
  /** Picked files and the private file system (see BrowserFiles). */
  files: HostFiles;
  /** Progress elements in the page. */
  progress: ProgressFactory;
  /** Registers what the page's stop button does while the command runs. */
  onInterrupt(handler: () => void): () => void;
}

/**
 * The host for a web page: output into the page, files the user picked, the GPU through `navigator.gpu`
 * (the device layer chooses it when it is not in Node). Browsers pick the WebGPU backend themselves and
 * do not say which, so the default backend is unknown.
 */
export function createBrowserHost(options: BrowserHostOptions): Host {
  const { stdout, stderr, files, progress, onInterrupt } = options;
  return {
    name: 'browser',
    stdout,
    stderr,
    files,
    progress,
    onInterrupt,
    requestDevice,
    defaultBackend: () => '',
  };
}
