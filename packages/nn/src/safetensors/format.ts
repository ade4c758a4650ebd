import { DTYPE_BYTES, isSafetensorsDType, type SafetensorsDType } from './dtypes.js';

/**
 * The safetensors file format (Hugging Face): an unsigned 64-bit little-endian header length N, N bytes of
 * UTF-8 JSON, then the tensor data. The header maps each tensor name to its dtype, shape and
 * `data_offsets` [begin, end) relative to the start of the data; the optional `__metadata__` entry maps
 * strings to strings. This module turns bytes into entries and back, in Node and in the browser alike.
 */

/** One tensor of a safetensors file: its raw little-endian bytes, not yet decoded. */
export interface SafetensorsEntry {
  dtype: SafetensorsDType;
  shape: number[];
  data: Uint8Array;
}

export interface SafetensorsFile {
  /** In header order. Each `data` is a view into the parsed bytes, not a copy. */
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** The largest header we accept, as Hugging Face's reader does; a hostile length cannot make us allocate more. */
export const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/**
 * Parses and validates safetensors bytes. Everything is checked before any tensor is touched: the header
 * length lies inside the file, the JSON is well formed, every dtype is known, every shape matches its byte
 * length, and the offsets cover the data exactly, without overlaps or holes. `source` (a file name) prefixes
 * every error message.
 */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  const fail = (what: string): never => {
    throw new SafetensorsError(`${source}: ${what}`);
  };
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes is too short for the 8-byte header length`);
  const lengthField = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (lengthField > BigInt(bytes.byteLength - 8)) {
    fail(`header length ${lengthField} runs past the end of the file (${bytes.byteLength} bytes)`);
  }
  const headerLength = Number(lengthField);
  if (headerLength > MAX_HEADER_BYTES)
    fail(`header length ${headerLength} exceeds ${MAX_HEADER_BYTES} bytes`);
  if (headerLength < 2) fail(`header length ${headerLength} is too short for a JSON object`);

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    if (!text.startsWith('{')) fail('header does not start with "{"');
    header = JSON.parse(text);
  } catch (error) {
    if (error instanceof SafetensorsError) throw error;
    fail(`header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail('header is not a JSON object');

  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const parsed: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];

  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        fail('__metadata__ is not an object of strings');
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ value "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      fail(`${where} is not an object`);
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isSafetensorsDType(info.dtype)) fail(`${where} has unknown dtype ${JSON.stringify(info.dtype)}`);
    const dtype = info.dtype as SafetensorsDType;
    if (!Array.isArray(info.shape) || !info.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`${where} has invalid shape ${JSON.stringify(info.shape)}`);
    }
    const shape = info.shape as number[];
    const offsets = info.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(`${where} has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`${where} has data_offsets [${begin}, ${end}] that end before they begin`);
    if (end > dataLength) {
      fail(`${where} has data_offsets [${begin}, ${end}] past the end of the data (${dataLength} bytes)`);
    }
    let count = 1;
    for (const d of shape) {
      count *= d;
      if (count > dataLength) break;
    }
    const expected = count * DTYPE_BYTES[dtype];
    if (expected !== end - begin) {
      fail(
        `${where} of dtype ${dtype} and shape [${shape}] needs ${expected} bytes but data_offsets hold ${end - begin}`,
      );
    }
    spans.push({ name, begin, end });
    parsed.push({ name, dtype, shape, begin, end });
  }

  // The data must be covered exactly once: sorted by offset, each tensor starts where the previous one ended.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous = '';
  for (const span of spans) {
    if (span.begin < cursor) fail(`tensor "${span.name}" overlaps tensor "${previous}"`);
    if (span.begin > cursor) fail(`bytes ${cursor}..${span.begin} of the data belong to no tensor`);
    cursor = span.end;
    previous = span.name;
  }
  if (cursor !== dataLength) fail(`bytes ${cursor}..${dataLength} of the data belong to no tensor`);

  const tensors = new Map<string, SafetensorsEntry>();
  for (const t of parsed) {
    tensors.set(t.name, {
      dtype: t.dtype,
      shape: t.shape,
      data: bytes.subarray(dataStart + t.begin, dataStart + t.end),
    });
  }
  return { tensors, metadata };
}

/**
 * Serialises entries to safetensors bytes. Tensors are laid out largest element size first (then in the
 * given order) and the header is padded with spaces to a multiple of 8, so every tensor's data is aligned
 * for a typed-array view.
 */
export function serializeSafetensors(
  tensors: Map<string, SafetensorsEntry> | Record<string, SafetensorsEntry>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`metadata value "${k}" is not a string`);
    }
    header.__metadata__ = metadata;
  }
  const order = entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => DTYPE_BYTES[b.entry[1].dtype] - DTYPE_BYTES[a.entry[1].dtype] || a.index - b.index);
  let offset = 0;
  for (const { entry } of order) {
    const [name, t] = entry;
    if (name === '__metadata__') throw new SafetensorsError('"__metadata__" cannot name a tensor');
    if (!isSafetensorsDType(t.dtype))
      throw new SafetensorsError(`tensor "${name}" has unknown dtype ${t.dtype}`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count * DTYPE_BYTES[t.dtype] !== t.data.byteLength) {
      throw new SafetensorsError(
        `tensor "${name}" of dtype ${t.dtype} and shape [${t.shape}] has ${t.data.byteLength} bytes, ` +
          `expected ${count * DTYPE_BYTES[t.dtype]}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let at = 8 + json.byteLength;
  for (const { entry } of order) {
    out.set(entry[1].data, at);
    at += entry[1].data.byteLength;
  }
  return out;
}
