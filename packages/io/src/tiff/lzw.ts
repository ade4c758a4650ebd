/**
 * TIFF LZW decoding (compression 5), written for this package because the decoder
 * geotiff ships grows a plain array without bound on the "old-style" LZW that very old
 * libtiff wrote, which takes the whole process down. This one writes into a buffer of
 * the size the strip or tile must have, and stops there, so no input can make it grow.
 *
 * Two dialects exist. Modern TIFF LZW packs codes most-significant-bit first and widens
 * the code one entry early; the old dialect packs least-significant-bit first and widens
 * on time. libtiff tells them apart by the first two bytes, and so do we.
 */
const CLEAR = 256;
const END = 257;
const FIRST_FREE = 258;
const MAX_CODES = 4096;

/** Old-style LZW starts with a Clear code written LSB-first: byte 0 is 0 and bit 0 of byte 1 is set. */
export function isOldStyleLzw(input: Uint8Array): boolean {
  return input.length >= 2 && input[0] === 0 && (input[1] & 1) === 1;
}

/** Decodes one LZW strip or tile into exactly `expectedBytes` bytes (zero-filled if the data ends early). */
export function decodeLzw(input: Uint8Array, expectedBytes: number): Uint8Array {
  const out = new Uint8Array(expectedBytes);
  const lsbFirst = isOldStyleLzw(input);
  const early = lsbFirst ? 0 : 1;
  const prefix = new Uint16Array(MAX_CODES);
  const suffix = new Uint8Array(MAX_CODES);
  const first = new Uint8Array(MAX_CODES);
  const length = new Uint16Array(MAX_CODES);
  for (let i = 0; i < 256; i++) {
    suffix[i] = i;
    first[i] = i;
    length[i] = 1;
  }

  let bitPos = 0;
  const totalBits = input.length * 8;
  let width = 9;
  let next = FIRST_FREE;
  let previous = -1;
  let written = 0;

  const readCode = (): number => {
    if (bitPos + width > totalBits) return END;
    let code = 0;
    if (lsbFirst) {
      for (let i = 0; i < width; i++, bitPos++) code |= ((input[bitPos >>> 3] >>> (bitPos & 7)) & 1) << i;
    } else {
      for (let i = 0; i < width; i++, bitPos++)
        code = (code << 1) | ((input[bitPos >>> 3] >>> (7 - (bitPos & 7))) & 1);
    }
    return code;
  };

  // Writes the string of `code` at `at`; entries are chains of prefixes, so fill from the end.
  const emit = (code: number, at: number): void => {
    let c = code;
    for (let i = length[c] - 1; i >= 0; i--) {
      if (at + i < expectedBytes) out[at + i] = suffix[c];
      c = prefix[c];
    }
  };

  while (written < expectedBytes) {
    const code = readCode();
    if (code === END) break;
    if (code === CLEAR) {
      width = 9;
      next = FIRST_FREE;
      previous = -1;
      continue;
    }
    if (previous < 0) {
      if (code > 255) throw new Error(`LZW: first code after Clear is ${code}, not a literal`);
      out[written++] = code;
      previous = code;
      continue;
    }
    if (code < next) {
      emit(code, written);
      written += length[code];
      if (next < MAX_CODES) {
        prefix[next] = previous;
        suffix[next] = first[code];
        first[next] = first[previous];
        length[next] = length[previous] + 1;
        next++;
      }
    } else if (code === next && next < MAX_CODES) {
      // The KwKwK case: the new entry is the previous string plus its own first byte.
      prefix[next] = previous;
      suffix[next] = first[previous];
      first[next] = first[previous];
      length[next] = length[previous] + 1;
      next++;
      emit(code, written);
      written += length[code];
    } else {
      throw new Error(`LZW: code ${code} is beyond the table (${next} entries)`);
    }
    previous = code;
    if (next + early >= 1 << width && width < 12) width++;
  }
  return out;
}
