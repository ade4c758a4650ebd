import type { RangeSource } from './range-source.js';
import { clampRange } from './range-source.js';

/**
 * A source over a local file in Node, read through one file handle with positioned
 * reads. `node:fs` is imported lazily so that browser bundles of this package never
 * pull it in.
 */
export async function fileSource(path: string): Promise<RangeSource> {
  const fs = await import('node:fs/promises');
  const handle = await fs.open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${path}: cannot open (${error.code ?? error.message})`);
  });
  const { size } = await handle.stat();
  let closed = false;
  const source: RangeSource = {
    name: path,
    size,
    async read(offset, length) {
      if (closed) throw new Error(`${path}: read after close`);
      const n = clampRange(source, offset, length);
      const buffer = new Uint8Array(n);
      let done = 0;
      while (done < n) {
        const { bytesRead } = await handle.read(buffer, done, n - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === n ? buffer : buffer.subarray(0, done);
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
  return source;
}
