import { requestDevice } from '@nephron/tensor';
import type { Host, OutputStream } from '../host/host.js';
import { nodeFiles } from '../host/node-files.js';
import { lineProgress } from '../host/progress.js';

export interface MemoryStream extends OutputStream {
  readonly text: string;
}

function memoryStream(): MemoryStream {
  let text = '';
  return {
    isTTY: false,
    write: (chunk) => {
      text += chunk;
    },
    get text() {
      return text;
    },
  };
}

/** A host that keeps what commands write, for tests; it opens the real GPU unless told otherwise. */
export function memoryHost(
  overrides: Partial<Pick<Host, 'requestDevice' | 'defaultBackend' | 'files'>> = {},
) {
  const stdout = memoryStream();
  const stderr = memoryStream();
  const host: Host = {
    name: 'memory',
    stdout,
    stderr,
    files: overrides.files ?? nodeFiles(),
    requestDevice: overrides.requestDevice ?? requestDevice,
    defaultBackend: overrides.defaultBackend ?? (() => ''),
    progress: lineProgress(stderr, 0),
  };
  return { host, stdout, stderr };
}
