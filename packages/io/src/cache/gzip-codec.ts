import * as zarr from 'zarrita';

/** Runs bytes through a web CompressionStream or DecompressionStream (Node ≥ 18 and browsers). */
async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const output = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(output).arrayBuffer());
}

/**
 * Zarr's `gzip` codec with encoding: zarrita ships only its decoder. Built on the web
 * streams standard so it runs unchanged in Node and the browser.
 */
class GzipCodec {
  readonly kind = 'bytes_to_bytes';
  static fromConfig(): GzipCodec {
    return new GzipCodec();
  }
  encode(bytes: Uint8Array): Promise<Uint8Array> {
    return pipe(bytes, new CompressionStream('gzip'));
  }
  decode(bytes: Uint8Array): Promise<Uint8Array> {
    return pipe(bytes, new DecompressionStream('gzip'));
  }
}

let installed = false;

export function installGzipCodec(): void {
  if (installed) return;
  installed = true;
  zarr.registry.set('gzip', async () => GzipCodec as never);
}
