import type { NephronDevice, RequestDeviceOptions } from '@nephron/tensor';
import type { HostFiles } from './files.js';
import type { ProgressFactory } from './progress.js';

/** Where a command writes text: a terminal, a pipe, or a console element in a web page. */
export interface OutputStream {
  write(text: string): void;
  /** True when a person is watching (a terminal); commands then may use colour and progress bars. */
  readonly isTTY: boolean;
}

/**
 * Everything a command may ask of the platform it runs on. Commands never touch `process`, the file
 * system or `navigator` directly, so the same command runs in a terminal (the Node host) and in a web
 * page (a browser host).
 */
export interface Host {
  /** Short name of the platform, shown by `doctor` ("node" or "browser"). */
  readonly name: string;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Files the command reads and writes (paths as the user typed them). */
  readonly files: HostFiles;
  /** Opens the GPU of this host; the Node host uses Dawn, a browser host `navigator.gpu`. */
  requestDevice(options?: RequestDeviceOptions): Promise<NephronDevice>;
  /**
   * The WebGPU backend when the adapter does not report one (Dawn in Node does not): the one the host
   * knows it asked for, or an empty string when it cannot know.
   */
  defaultBackend(): string;
  /** Progress bars for long work: live on a terminal, sparse lines in logs, a progress element in a page. */
  progress: ProgressFactory;
  /**
   * Calls `handler` when the user asks to stop (Ctrl-C in a terminal) instead of killing the process, so long
   * commands can save their state first; returns a function that removes the handler.
   */
  onInterrupt?(handler: () => void): () => void;
}

/** Exit codes every command shares, as scripts expect them. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
