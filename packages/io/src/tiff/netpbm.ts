/**
 * A tiny reader for binary Netpbm files (P4 bitmap, P5 grey, P6 colour), the reference
 * twins of some conformance TIFFs. P4 comes back one byte per pixel (1 = black).
 */
export interface Netpbm {
  width: number;
  height: number;
  channels: number;
  maxValue: number;
  data: Uint8Array | Uint16Array;
}

export function parseNetpbm(bytes: Uint8Array, name = 'netpbm'): Netpbm {
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (pos < bytes.length && /\s/.test(String.fromCharCode(bytes[pos]))) pos++;
      if (bytes[pos] !== 0x23) break; // '#' starts a comment that runs to the end of the line
      while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
    }
    let text = '';
    while (pos < bytes.length && !/\s/.test(String.fromCharCode(bytes[pos])))
      text += String.fromCharCode(bytes[pos++]);
    return text;
  };
  const magic = token();
  if (magic !== 'P4' && magic !== 'P5' && magic !== 'P6')
    throw new Error(`${name}: not a binary PBM/PGM/PPM (${magic})`);
  const width = Number(token());
  const height = Number(token());
  const maxValue = magic === 'P4' ? 1 : Number(token());
  pos++; // the single whitespace byte before the pixels
  const channels = magic === 'P6' ? 3 : 1;
  const count = width * height * channels;
  if (magic === 'P4') {
    const rowBytes = Math.ceil(width / 8);
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++)
        data[y * width + x] = (bytes[pos + y * rowBytes + (x >> 3)] >> (7 - (x & 7))) & 1;
    }
    return { width, height, channels, maxValue, data };
  }
  if (maxValue < 256) return { width, height, channels, maxValue, data: bytes.slice(pos, pos + count) };
  const data = new Uint16Array(count);
  for (let i = 0; i < count; i++) data[i] = (bytes[pos + 2 * i] << 8) | bytes[pos + 2 * i + 1];
  return { width, height, channels, maxValue, data };
}
