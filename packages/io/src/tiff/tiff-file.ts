import { GeoTIFF, GeoTIFFImage, type Pool } from 'geotiff';
import {
  type ChannelLayout,
  channelPageRefusal,
  groupPlanes,
  mergePlanes,
  type PageChain,
} from './channel-pages.js';
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
  /**
   * The main image first (full resolution), then its reduced copies, largest first. When the
   * colours are stored as pages (`channels === 'pages'`), each level merges three of them.
   */
  readonly levels: readonly TiffPage[];
  /** Where the levels' colours are: in each page's samples, or one page per channel. */
  readonly channels: 'samples' | 'pages';
  /** Decoder worker pool shared by reads of this file, if one was given. */
  readonly pool: Pool | undefined;
  close(): Promise<void>;
}

export interface OpenTiffOptions {
  /** Decode compressed tiles on these workers (see `createDecoderPool`). */
  pool?: Pool;
  /**
   * `'pages'` reads the file as R, G, B single-sample pages (an error says why when its pages
   * do not fit), `'samples'` never merges pages, `'auto'` (default) merges only when the
   * layout is unambiguous (see `channelPageRefusal`).
   */
  channels?: ChannelLayout;
}

// Guards against IFD chains that loop back on themselves in broken files.
const maxPages = 10_000;

function describeFailure(name: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${name}: not a readable TIFF (${message})`);
}

/** Levels for the chosen channel layout, with the reason when `pages` is asked of a file that does not fit. */
function chooseLevels(
  name: string,
  chains: readonly PageChain[],
  pages: readonly TiffPage[],
  layout: ChannelLayout,
  description: string | undefined,
): { channels: 'samples' | 'pages'; levels: TiffPage[] } {
  const samples = { channels: 'samples' as const, levels: findLevels(pages) };
  if (layout === 'samples') return samples;
  if (layout === 'auto' && channelPageRefusal(chains, description) !== undefined) return samples;
  const groups = groupPlanes(chains);
  if (typeof groups === 'string') {
    throw new Error(`${name}: cannot read the pages as R, G, B planes (channels: 'pages'): ${groups}`);
  }
  return { channels: 'pages', levels: findLevels(groups.map(mergePlanes)) };
}

async function firstDescription(page: TiffPage): Promise<string | undefined> {
  const directory = page.image.getFileDirectory();
  if (!directory.hasTag('ImageDescription')) return undefined;
  try {
    return String(await directory.loadValue('ImageDescription'));
  } catch {
    // A description that cannot be read says nothing; the pixels may still be fine.
    return undefined;
  }
}

function isDocumentPage(page: TiffPage): boolean {
  return page.image.getFileDirectory().hasTag('PageNumber') || (page.subfileType & 2) === 2;
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
  const layout = options.channels ?? 'auto';
  if (!['samples', 'pages', 'auto'].includes(layout)) {
    await source.close();
    throw new RangeError(`${source.name}: channels must be 'samples', 'pages' or 'auto', not '${layout}'`);
  }
  const pages: TiffPage[] = [];
  const chains: PageChain[] = [];
  let description: string | undefined;
  try {
    // geotiff trusts counts and offsets (a loop in the IFD chain hangs it, a huge count allocates gigabytes).
    await checkTiffStructure(source);
    tiff = await GeoTIFF.fromSource(toGeoTiffSource(source));
    const count = await tiff.getImageCount();
    if (count > maxPages) throw new Error(`${count} pages is more than the ${maxPages} allowed`);
    for (let i = 0; i < count; i++) {
      const page = describePage(String(i), await tiff.getImage(i));
      const subIfds = await subIfdPages(tiff, page);
      pages.push(page, ...subIfds);
      chains.push({ top: page, subIfds, documentPage: isDocumentPage(page) });
    }
    // Only files whose pages could be colour planes pay for reading the description.
    if (layout !== 'samples' && typeof groupPlanes(chains) !== 'string') {
      description = await firstDescription(pages[0]);
    }
  } catch (error) {
    await source.close();
    throw describeFailure(source.name, error);
  }
  if (pages.length === 0) {
    await source.close();
    throw new Error(`${source.name}: the TIFF has no images`);
  }
  let chosen: ReturnType<typeof chooseLevels>;
  try {
    chosen = chooseLevels(source.name, chains, pages, layout, description);
  } catch (error) {
    await source.close();
    throw error;
  }
  return {
    name: source.name,
    bigTiff: tiff.bigTiff,
    littleEndian: tiff.littleEndian,
    pages,
    levels: chosen.levels,
    channels: chosen.channels,
    pool: options.pool,
    close: () => source.close(),
  };
}

/**
 * Finds a page by id (`"1"`, `"0.2"`, or a merged level's `"0+1+2"`) or number, with an
 * error naming the file when absent.
 */
export function getPage(file: TiffFile, page: string | number): TiffPage {
  const found = [...file.pages, ...file.levels].find((p) => p.id === String(page));
  if (!found) {
    throw new Error(`${file.name}: no page ${page} (pages: ${file.pages.map((p) => p.id).join(', ')})`);
  }
  return found;
}
