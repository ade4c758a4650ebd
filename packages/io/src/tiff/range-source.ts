/**
 * Where TIFF bytes come from. The reader only ever asks for byte ranges, so a
 * multi-gigabyte slide is never held in memory whole, and the same reader runs on
 * a Node file handle, a browser `File`/`Blob`, or bytes already in memory.
 */
export interface RangeSource {
  /** Names the source in error messages (a file path, a File's name). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Reads `length` bytes from `offset`; fewer come back only at the end of the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

function clampRange(source: { name: string; size: number }, offset: number, length: number): number {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`${source.name}: invalid byte range offset=${offset} length=${length}`);
  }
  return Math.max(0, Math.min(length, source.size - offset));
}

/** A source over bytes already in memory (small files, tests, fetched buffers). */
export function bytesSource(bytes: Uint8Array, name = 'bytes'): RangeSource {
  const source = {
    name,
    size: bytes.byteLength,
    async read(offset: number, length: number) {
      const n = clampRange(source, offset, length);
      return bytes.slice(offset, offset + n);
    },
    async close() {},
  };
  return source;
}

/** A source over a browser `Blob` or `File`: each read slices the blob, so only that range is loaded. */
export function blobSource(blob: Blob, name?: string): RangeSource {
  const source = {
    name: name ?? ((blob as { name?: string }).name || 'blob'),
    size: blob.size,
    async read(offset: number, length: number) {
      const n = clampRange(source, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + n).arrayBuffer());
    },
    async close() {},
  };
  return source;
}

export { clampRange };
