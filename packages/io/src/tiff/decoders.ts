import { addDecoder, BaseDecoder } from 'geotiff';
import { decodeLzw } from './lzw.js';

type DecoderParameters = ConstructorParameters<typeof BaseDecoder>[0];

/** Bytes one decoded strip or tile holds: rows of whole bytes, one sample per block when planar. */
export function blockBytes(parameters: DecoderParameters): number {
  const bits = Array.from(
    Array.isArray(parameters.bitsPerSample) || ArrayBuffer.isView(parameters.bitsPerSample)
      ? (parameters.bitsPerSample as ArrayLike<number>)
      : [parameters.bitsPerSample as number],
  );
  const bitsPerPixel = parameters.planarConfiguration === 2 ? bits[0] : bits.reduce((a, b) => a + b, 0);
  return Math.ceil((parameters.tileWidth * bitsPerPixel) / 8) * parameters.tileHeight;
}

class LzwDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    return decodeLzw(new Uint8Array(buffer), blockBytes(this.parameters)).buffer;
  }
}

/** Uncompressed blocks, padded when a writer stored a short last tile or strip. */
class RawDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    const expected = blockBytes(this.parameters);
    if (buffer.byteLength >= expected) return buffer;
    const padded = new Uint8Array(expected);
    padded.set(new Uint8Array(buffer));
    return padded.buffer;
  }
}

let installed = false;

/**
 * Puts our decoders in geotiff's registry (once). LZW runs on the calling thread:
 * geotiff's worker bundle carries its own registry, which we cannot reach.
 */
export function installDecoders(): void {
  if (installed) return;
  installed = true;
  addDecoder([undefined, 1], async () => RawDecoder as unknown as typeof BaseDecoder, undefined, false);
  addDecoder(5, async () => LzwDecoder as unknown as typeof BaseDecoder, undefined, false);
}
