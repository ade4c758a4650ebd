/** Element types a tensor can hold. `bool` is stored as one u32 per element, as WGSL has no bool buffers. */
export type DType = 'float32' | 'float16' | 'int32' | 'uint32' | 'bool';

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  float16: 2,
  int32: 4,
  uint32: 4,
  bool: 4,
};

/** The WGSL scalar type a dtype is stored as. */
export const WGSL_TYPE: Record<DType, string> = {
  float32: 'f32',
  float16: 'f16',
  int32: 'i32',
  uint32: 'u32',
  bool: 'u32',
};

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16';
}

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'int32'
    ? Int32Array
    : D extends 'float16'
      ? Float32Array
      : Uint32Array;

/** Arrays accepted as tensor data. float16 tensors read back as Float32Array (JS has no stable Float16Array in Node 20). */
export type TensorData = Float32Array | Int32Array | Uint32Array | Uint8Array | number[] | Float64Array;

export function inferDType(data: TensorData): DType {
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof Uint8Array) return 'bool';
  return 'float32';
}

/** Rounds a number to float16 and back; used to upload and download half-precision data. */
export function toHalfBits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  if ((half & 0x7fff) >= 0x7c00) {
    e = 0x1f;
    return sign | 0x7c00;
  }
  return sign | half;
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
