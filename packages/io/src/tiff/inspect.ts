import { pageSummary } from './page.js';
import type { RangeSource } from './range-source.js';
import { type OpenTiffOptions, openTiff, type TiffFile } from './tiff-file.js';

/** What `nephron inspect` prints: JSON-serialisable, no pixels read. */
export interface TiffInspection {
  file: string;
  bytes: number;
  bigTiff: boolean;
  byteOrder: 'little-endian' | 'big-endian';
  pages: ReturnType<typeof pageSummary>[];
  /** `pages` when each level is three single-sample pages read as R, G, B (ids `"0+1+2"`). */
  channels: 'samples' | 'pages';
  levels: {
    level: number;
    page: string;
    width: number;
    height: number;
    downsample: number;
    /** The pages holding R, G and B, when `channels` is `pages`. */
    planes?: string[];
  }[];
}

export function describeTiff(file: TiffFile, bytes: number): TiffInspection {
  const full = file.levels[0];
  return {
    file: file.name,
    bytes,
    bigTiff: file.bigTiff,
    byteOrder: file.littleEndian ? 'little-endian' : 'big-endian',
    pages: file.pages.map(pageSummary),
    channels: file.channels,
    levels: file.levels.map((page, level) => ({
      level,
      page: page.id,
      width: page.width,
      height: page.height,
      downsample: Number((full.width / page.width).toFixed(4)),
      planes: page.planes?.map((p) => p.id),
    })),
  };
}

/** Opens, describes and closes a TIFF. */
export async function inspectTiff(
  source: RangeSource,
  options: OpenTiffOptions = {},
): Promise<TiffInspection> {
  const file = await openTiff(source, options);
  try {
    return describeTiff(file, source.size);
  } finally {
    await file.close();
  }
}
