import type { GeoTIFFImage } from 'geotiff';

/** A TIFF form this reader does not decode; the message names the feature and the file. */
export class TiffUnsupportedError extends Error {
  constructor(
    readonly file: string,
    readonly feature: string,
  ) {
    super(`${file}: unsupported TIFF feature: ${feature}`);
    this.name = 'TiffUnsupportedError';
  }
}

/** TIFF compression codes, by the names the TIFF spec and libtiff give them. */
export const compressionNames: Record<number, string> = {
  1: 'none',
  2: 'CCITT modified Huffman (RLE)',
  3: 'CCITT Group 3 fax',
  4: 'CCITT Group 4 fax',
  5: 'LZW',
  6: 'old-style JPEG',
  7: 'JPEG',
  8: 'deflate',
  32773: 'PackBits',
  32809: 'ThunderScan',
  32946: 'deflate',
  34676: 'SGI LogLuv',
  34677: 'SGI LogLuv 24',
  34887: 'LERC',
  50000: 'Zstandard',
};

const decodable = new Set([1, 5, 7, 8, 32773, 32946, 34887, 50000]);

export const photometricNames: Record<number, string> = {
  0: 'WhiteIsZero',
  1: 'BlackIsZero',
  2: 'RGB',
  3: 'palette',
  4: 'transparency mask',
  5: 'CMYK',
  6: 'YCbCr',
  8: 'CIELab',
  32844: 'LogL',
  32845: 'LogLuv',
};

const convertible = new Set([0, 1, 2, 3, 5, 6, 8]);

export function compressionName(code: number): string {
  return compressionNames[code] ?? `compression ${code}`;
}

/**
 * Rejects, before any pixel is read, the forms whose decoding would fail deep inside
 * geotiff with a message that names neither the feature nor the file.
 */
export function assertDecodable(image: GeoTIFFImage, file: string): void {
  const directory = image.getFileDirectory();
  const compression = Number(directory.getValue('Compression') ?? 1);
  if (!decodable.has(compression)) {
    throw new TiffUnsupportedError(file, `${compressionName(compression)} compression (code ${compression})`);
  }
  const photometric = Number(directory.getValue('PhotometricInterpretation') ?? 1);
  if (!convertible.has(photometric)) {
    throw new TiffUnsupportedError(
      file,
      `${photometricNames[photometric] ?? 'unknown'} photometric interpretation (${photometric})`,
    );
  }
  if (photometric === 6 && compression !== 7) {
    // JPEG carries its own chroma layout; other codecs store subsampled YCbCr that geotiff cannot undo.
    const sub = directory.hasTag('YCbCrSubSampling')
      ? Array.from(directory.getValue('YCbCrSubSampling' as never) as unknown as ArrayLike<number>)
      : [2, 2];
    if (sub[0] !== 1 || sub[1] !== 1) {
      throw new TiffUnsupportedError(
        file,
        `YCbCr with ${sub[0]}x${sub[1]} chroma subsampling (not JPEG-compressed)`,
      );
    }
  }
  const samples = image.getSamplesPerPixel();
  const predictor = Number(directory.getValue('Predictor' as never) ?? 1);
  for (let s = 0; s < samples; s++) {
    const bits = image.getBitsPerSample(s);
    const format = image.getSampleFormat(s);
    if (format === 3 && bits !== 16 && bits !== 32 && bits !== 64) {
      throw new TiffUnsupportedError(file, `${bits}-bit floating-point samples`);
    }
    if (format !== 3 && bits > 32) throw new TiffUnsupportedError(file, `${bits}-bit integer samples`);
    if (format !== 3 && bits > 16 && bits !== 32)
      throw new TiffUnsupportedError(file, `${bits}-bit integer samples`);
    if (predictor !== 1 && bits % 8 !== 0) {
      throw new TiffUnsupportedError(file, `predictor ${predictor} with ${bits}-bit samples`);
    }
  }
  if (predictor !== 1 && predictor !== 2 && predictor !== 3) {
    throw new TiffUnsupportedError(file, `predictor ${predictor}`);
  }
}
