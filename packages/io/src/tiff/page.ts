import type { GeoTIFFImage } from 'geotiff';
import { compressionName, photometricNames } from './features.js';

/** One image of a TIFF: a top-level page or a sub-IFD of one. */
export interface TiffPage {
  /** `"2"` for the third page, `"0.1"` for the second sub-IFD of the first page. */
  readonly id: string;
  readonly image: GeoTIFFImage;
  readonly width: number;
  readonly height: number;
  readonly tiled: boolean;
  /** Tile size, or the image width and rows per strip when striped. */
  readonly blockWidth: number;
  readonly blockHeight: number;
  readonly samplesPerPixel: number;
  readonly bitsPerSample: number[];
  /** `uint`, `int` or `float`, per TIFF SampleFormat 1, 2, 3. */
  readonly sampleFormat: 'uint' | 'int' | 'float';
  readonly compression: number;
  readonly photometric: number;
  /** 1 = chunky (samples interleaved), 2 = planar (one plane per sample). */
  readonly planarConfiguration: number;
  /** NewSubfileType: bit 0 set = a reduced-resolution copy of another page. */
  readonly subfileType: number;
  /**
   * Set when this image is stored as one single-sample page per channel (R, G, B): its
   * samples are these pages' samples, in order. `image` is then the first plane's.
   */
  readonly planes?: readonly TiffPage[];
}

const sampleFormats = { 1: 'uint', 2: 'int', 3: 'float' } as const;

/**
 * Some early tiled writers (libtiff's cramps-tile.tif among them) stored tile positions
 * under the strip tags. geotiff decides "tiled" by the strip tags alone, so move them to
 * the tile tags before it lays out blocks.
 */
function moveTilesOutOfStripTags(image: GeoTIFFImage): void {
  const directory = image.getFileDirectory();
  if (!directory.hasTag('TileWidth') || directory.hasTag('TileOffsets') || !directory.hasTag('StripOffsets'))
    return;
  const moves: [number, number][] = [
    [273, 324], // StripOffsets -> TileOffsets
    [279, 325], // StripByteCounts -> TileByteCounts
  ];
  for (const map of [directory.actualizedFields, directory.deferredFields, directory.deferredArrays] as Map<
    string | number,
    unknown
  >[]) {
    for (const [from, to] of moves) {
      if (map.has(from)) {
        map.set(to, map.get(from));
        map.delete(from);
      }
    }
  }
  (image as unknown as { isTiled: boolean }).isTiled = true;
}

export function describePage(id: string, image: GeoTIFFImage): TiffPage {
  moveTilesOutOfStripTags(image);
  const directory = image.getFileDirectory();
  const tiled = directory.hasTag('TileWidth');
  const samplesPerPixel = image.getSamplesPerPixel();
  const bitsPerSample = Array.from({ length: samplesPerPixel }, (_, s) => image.getBitsPerSample(s));
  const format = image.getSampleFormat(0) as 1 | 2 | 3;
  return {
    id,
    image,
    width: image.getWidth(),
    height: image.getHeight(),
    tiled,
    blockWidth: image.getTileWidth(),
    blockHeight: image.getTileHeight(),
    samplesPerPixel,
    bitsPerSample,
    sampleFormat: sampleFormats[format] ?? 'uint',
    compression: Number(directory.getValue('Compression') ?? 1),
    photometric: Number(directory.getValue('PhotometricInterpretation') ?? 1),
    planarConfiguration: Number(directory.getValue('PlanarConfiguration') ?? 1),
    subfileType: Number(directory.getValue('NewSubfileType') ?? 0),
  };
}

/** A JSON-serialisable summary of a page, for `nephron inspect`. */
export function pageSummary(page: TiffPage) {
  return {
    id: page.id,
    width: page.width,
    height: page.height,
    layout: page.tiled ? 'tiled' : 'striped',
    tileWidth: page.tiled ? page.blockWidth : undefined,
    tileHeight: page.tiled ? page.blockHeight : undefined,
    rowsPerStrip: page.tiled ? undefined : page.blockHeight,
    samplesPerPixel: page.samplesPerPixel,
    bitsPerSample: page.bitsPerSample,
    sampleFormat: page.sampleFormat,
    compression: compressionName(page.compression),
    photometric: photometricNames[page.photometric] ?? String(page.photometric),
    planar: page.planarConfiguration === 2 ? 'planar' : 'chunky',
    reducedResolution: (page.subfileType & 1) === 1,
    planes: page.planes?.map((p) => p.id),
  };
}
