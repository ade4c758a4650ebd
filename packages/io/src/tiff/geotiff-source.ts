import type { GeoTIFF } from 'geotiff';
import type { RangeSource } from './range-source.js';

type Slice = { offset: number; length: number };

/** The source type geotiff parses from; its base class is not exported, so we match its shape. */
export type GeoTiffSource = GeoTIFF['source'];

function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
    return bytes.buffer as ArrayBuffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/** Adapts a RangeSource to the interface geotiff fetches bytes through. */
export function toGeoTiffSource(range: RangeSource): GeoTiffSource {
  const fetchSlice = async (slice: Slice) => {
    const data = wholeBuffer(await range.read(slice.offset, slice.length));
    return { offset: slice.offset, length: data.byteLength, data };
  };
  const source = {
    fetchSlice,
    async fetch(slices: Slice[]) {
      return Promise.all(slices.map(async (slice) => (await fetchSlice(slice)).data));
    },
    get fileSize() {
      return range.size;
    },
    close: () => range.close(),
  };
  return source as unknown as GeoTiffSource;
}
