import { requestDevice } from '@nephron/tensor';
import type { Host, OutputStream } from './host.js';
import { nodeFiles } from './node-files.js';
import { terminalProgress } from './node-progress.js';
import { lineProgress } from './progress.js';

/**
 * Wraps a process stream. When the reader goes away (`nephron doctor | head -3`), further output is
 * dropped instead of crashing on EPIPE, as command-line tools are expected to behave.
 */
function streamOf(stream: NodeJS.WriteStream): OutputStream {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  return {
    write: (text) => {
      if (!closed) stream.write(text);
    },
    get isTTY() {
      return stream.isTTY === true;
    },
  };
}

/** Dawn picks one backend per platform unless NEPHRON_BACKEND names another (see the device layer). */
const DAWN_BACKENDS: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'vulkan',
  win32: 'd3d12',
  darwin: 'metal',
};

/** The host for a terminal: the process's own stdout/stderr and the GPU through Dawn. */
export function createNodeHost(): Host {
  return {
    name: 'node',
    stdout: streamOf(process.stdout),
    stderr: streamOf(process.stderr),
    files: nodeFiles(),
    requestDevice,
    defaultBackend: () => process.env.NEPHRON_BACKEND ?? DAWN_BACKENDS[process.platform] ?? '',
    progress: process.stderr.isTTY
      ? terminalProgress(process.stderr)
      : lineProgress(streamOf(process.stderr)),
    onInterrupt(handler) {
      // The first Ctrl-C asks the command to stop cleanly; a second one kills as usual.
      const onSigint = () => {
        process.removeListener('SIGINT', onSigint);
        handler();
      };
      process.on('SIGINT', onSigint);
      return () => process.removeListener('SIGINT', onSigint);
    },
  };
}
