import { GeoTIFF, GeoTIFFImage, type Pool } from 'geotiff';
import { installDecoders } from './decoders.js';
import { toGeoTiffSource } from './geotiff-source.js';
import { checkTiffStructure } from './ifd-check.js';
import { describePage, type TiffPage } from './page.js';
import type { RangeSource } from './range-source.js';

/** An open TIFF: its pages (sub-IFDs included) and the pyramid levels found among them. */
export interface TiffFile {
  readonly name: string;
  readonly bigTiff: boolean;
  readonly littleEndian: boolean;
  readonly pages: readonly TiffPage[];
  /** The main image first (full resolution), then its reduced copies, largest first. */
  readonly levels: readonly TiffPage[];
  /** Decoder worker pool shared by reads of this file, if one was given. */
  readonly pool: Pool | undefined;
  close(): Promise<void>;
}

export interface OpenTiffOptions {
  /** Decode compressed tiles on these workers (see `createDecoderPool`). */
  pool?: Pool;
}

// Guards against IFD chains that loop back on themselves in broken files.
const maxPages = 10_000;

function describeFailure(name: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${name}: not a readable TIFF (${message})`);
}

async function subIfdPages(tiff: GeoTIFF, parent: TiffPage): Promise<TiffPage[]> {
  const directory = parent.image.getFileDirectory();
  if (!directory.hasTag('SubIFDs')) return [];
  const offsets = Array.from((await directory.loadValue('SubIFDs')) as ArrayLike<number | bigint>, Number);
  const pages: TiffPage[] = [];
  for (const [i, offset] of offsets.entries()) {
    const ifd = await tiff.parser.parseFileDirectoryAt(offset);
    const image = new GeoTIFFImage(ifd, tiff.littleEndian, tiff.cache, tiff.source);
    pages.push(describePage(`${parent.id}.${i}`, image));
  }
  return pages;
}

/**
 * Pyramid levels: the largest page, then every smaller page with the same number of
 * samples and the same aspect ratio (within the rounding of halving odd sizes). This
 * catches reduced pages whether they are flagged or not, top-level or sub-IFDs, and
 * leaves out the label and macro pictures of scanner files, whose shapes differ.
 */
export function findLevels(pages: readonly TiffPage[]): TiffPage[] {
  if (pages.length === 0) return [];
  const main = pages.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
  const reduced = pages.filter((page) => {
    if (page === main || page.samplesPerPixel !== main.samplesPerPixel) return false;
    if (page.width >= main.width || page.height >= main.height) return false;
    const fx = main.width / page.width;
    const fy = main.height / page.height;
    return Math.abs(fx - fy) <= Math.max(0.02 * fx, (2 * fx) / Math.min(page.width, page.height));
  });
  reduced.sort((a, b) => b.width - a.width);
  const levels = [main];
  for (const page of reduced) if (page.width < levels[levels.length - 1].width) levels.push(page);
  return levels;
}

/** Opens a TIFF for ranged reading. Only the header and the IFDs are read here. */
export async function openTiff(source: RangeSource, options: OpenTiffOptions = {}): Promise<TiffFile> {
  installDecoders();
  let tiff: GeoTIFF;
  const pages: TiffPage[] = [];
  try {
    // geotiff trusts counts and offsets (a loop in the IFD chain hangs it, a huge count allocates gigabytes).
    await checkTiffStructure(source);
    tiff = await GeoTIFF.fromSource(toGeoTiffSource(source));
    const count = await tiff.getImageCount();
    if (count > maxPages) throw new Error(`${count} pages is more than the ${maxPages} allowed`);
    for (let i = 0; i < count; i++) {
      const page = describePage(String(i), await tiff.getImage(i));
      pages.push(page, ...(await subIfdPages(tiff, page)));
    }
  } catch (error) {
    await source.close();
    throw describeFailure(source.name, error);
  }
  if (pages.length === 0) {
    await source.close();
    throw new Error(`${source.name}: the TIFF has no images`);
  }
  return {
    name: source.name,
    bigTiff: tiff.bigTiff,
    littleEndian: tiff.littleEndian,
    pages,
    levels: findLevels(pages),
    pool: options.pool,
    close: () => source.close(),
  };
}

/** Finds a page by id (`"1"`, `"0.2"`) or number, with an error naming the file when absent. */
export function getPage(file: TiffFile, page: string | number): TiffPage {
  const found = file.pages.find((p) => p.id === String(page));
  if (!found) {
    throw new Error(`${file.name}: no page ${page} (pages: ${file.pages.map((p) => p.id).join(', ')})`);
  }
  return found;
}
