/**
 * The element types of the safetensors format (Hugging Face's names) and conversions between their raw
 * little-endian bytes and JavaScript typed arrays. Every platform JavaScript runs on is little-endian, so
 * typed-array views read the bytes directly.
 */
export type SafetensorsDType =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E4M3'
  | 'F8_E5M2'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

export const DTYPE_BYTES: Record<SafetensorsDType, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

export function isSafetensorsDType(name: unknown): name is SafetensorsDType {
  return typeof name === 'string' && Object.hasOwn(DTYPE_BYTES, name);
}

export const FLOAT_DTYPES: readonly SafetensorsDType[] = ['F16', 'BF16', 'F32', 'F64'];
export const INT_DTYPES: readonly SafetensorsDType[] = ['U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64'];

// ---- half precision ------------------------------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits to a number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** A number to IEEE binary16 bits, rounding to nearest even as PyTorch's `.half()` does. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full significand right, rounding to nearest even.
    if (e < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - e;
    let half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent, up to infinity.
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** bfloat16 is the top half of a float32. */
export function bfloat16ToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

export function floatToBfloat16(value: number): number {
  f32[0] = value;
  const bits = u32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

// ---- typed views of raw bytes -----------------------------------------------------------------------------

/** A typed array over bytes; copies only when the bytes are not aligned for the element size. */
function aligned(bytes: Uint8Array, elementBytes: number): ArrayBuffer {
  if (bytes.byteOffset % elementBytes === 0 && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer;
  }
  return bytes.slice().buffer;
}

function view<T>(
  bytes: Uint8Array,
  size: number,
  make: (buffer: ArrayBuffer, offset: number, length: number) => T,
): T {
  const buffer = aligned(bytes, size);
  const offset = buffer === bytes.buffer ? bytes.byteOffset : 0;
  return make(buffer, offset, bytes.byteLength / size);
}

/** Decodes any floating (or integer) dtype to float32 values, as nephron holds floats. */
export function bytesToFloat32(bytes: Uint8Array, dtype: SafetensorsDType): Float32Array {
  switch (dtype) {
    case 'F32':
      return view(bytes, 4, (b, o, n) => new Float32Array(b, o, n));
    case 'F64':
      return Float32Array.from(view(bytes, 8, (b, o, n) => new Float64Array(b, o, n)));
    case 'F16':
      return Float32Array.from(
        view(bytes, 2, (b, o, n) => new Uint16Array(b, o, n)),
        halfToFloat,
      );
    case 'BF16':
      return Float32Array.from(
        view(bytes, 2, (b, o, n) => new Uint16Array(b, o, n)),
        bfloat16ToFloat,
      );
    case 'F8_E4M3':
    case 'F8_E5M2':
      throw new TypeError(`decoding ${dtype} is not supported`);
    default:
      return Float32Array.from(bytesToNumbers(bytes, dtype));
  }
}

/** Decodes an integer or boolean dtype to plain numbers (64-bit values must fit a double exactly). */
export function bytesToNumbers(
  bytes: Uint8Array,
  dtype: SafetensorsDType,
  label = 'tensor',
): ArrayLike<number> {
  switch (dtype) {
    case 'BOOL':
    case 'U8':
      return bytes;
    case 'I8':
      return view(bytes, 1, (b, o, n) => new Int8Array(b, o, n));
    case 'I16':
      return view(bytes, 2, (b, o, n) => new Int16Array(b, o, n));
    case 'U16':
      return view(bytes, 2, (b, o, n) => new Uint16Array(b, o, n));
    case 'I32':
      return view(bytes, 4, (b, o, n) => new Int32Array(b, o, n));
    case 'U32':
      return view(bytes, 4, (b, o, n) => new Uint32Array(b, o, n));
    case 'I64':
    case 'U64': {
      const wide =
        dtype === 'I64'
          ? view(bytes, 8, (b, o, n) => new BigInt64Array(b, o, n))
          : view(bytes, 8, (b, o, n) => new BigUint64Array(b, o, n));
      const out = new Float64Array(wide.length);
      for (let i = 0; i < wide.length; i++) {
        const v = Number(wide[i]);
        if (!Number.isSafeInteger(v)) {
          throw new RangeError(
            `${label}: ${dtype} value ${wide[i]} at element ${i} does not fit a double exactly`,
          );
        }
        out[i] = v;
      }
      return out;
    }
    default:
      return bytesToFloat32(bytes, dtype);
  }
}

/** Encodes numbers as the raw little-endian bytes of `dtype`. Integer dtypes check every value's range. */
export function numbersToBytes(
  values: ArrayLike<number>,
  dtype: SafetensorsDType,
  label = 'tensor',
): Uint8Array {
  const n = values.length;
  const checkInt = (lo: number, hi: number) => {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!Number.isInteger(v) || v < lo || v > hi) {
        throw new RangeError(`${label}: value ${v} at element ${i} is not representable as ${dtype}`);
      }
    }
  };
  const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (dtype) {
    case 'F32':
      return bytesOf(Float32Array.from(values));
    case 'F64':
      return bytesOf(Float64Array.from(values));
    case 'F16':
      return bytesOf(Uint16Array.from(values, floatToHalf));
    case 'BF16':
      return bytesOf(Uint16Array.from(values, floatToBfloat16));
    case 'BOOL':
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
    case 'U8':
      checkInt(0, 255);
      return Uint8Array.from(values);
    case 'I8':
      checkInt(-128, 127);
      return bytesOf(Int8Array.from(values));
    case 'I16':
      checkInt(-32768, 32767);
      return bytesOf(Int16Array.from(values));
    case 'U16':
      checkInt(0, 65535);
      return bytesOf(Uint16Array.from(values));
    case 'I32':
      checkInt(-(2 ** 31), 2 ** 31 - 1);
      return bytesOf(Int32Array.from(values));
    case 'U32':
      checkInt(0, 2 ** 32 - 1);
      return bytesOf(Uint32Array.from(values));
    case 'I64':
      checkInt(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      return bytesOf(BigInt64Array.from(Array.from(values), (v) => BigInt(v)));
    case 'U64':
      checkInt(0, Number.MAX_SAFE_INTEGER);
      return bytesOf(BigUint64Array.from(Array.from(values), (v) => BigInt(v)));
    case 'F8_E4M3':
    case 'F8_E5M2':
      throw new TypeError(`${label}: writing ${dtype} is not supported`);
  }
}
