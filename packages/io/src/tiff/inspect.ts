import { pageSummary } from './page.js';
import type { RangeSource } from './range-source.js';
import { openTiff, type TiffFile } from './tiff-file.js';

/** What `nephron inspect` prints: JSON-serialisable, no pixels read. */
export interface TiffInspection {
  file: string;
  bytes: number;
  bigTiff: boolean;
  byteOrder: 'little-endian' | 'big-endian';
  pages: ReturnType<typeof pageSummary>[];
  levels: { level: number; page: string; width: number; height: number; downsample: number }[];
}

export function describeTiff(file: TiffFile, bytes: number): TiffInspection {
  const full = file.levels[0];
  return {
    file: file.name,
    bytes,
    bigTiff: file.bigTiff,
    byteOrder: file.littleEndian ? 'little-endian' : 'big-endian',
    pages: file.pages.map(pageSummary),
    levels: file.levels.map((page, level) => ({
      level,
      page: page.id,
      width: page.width,
      height: page.height,
      downsample: Number((full.width / page.width).toFixed(4)),
    })),
  };
}

/** Opens, describes and closes a TIFF. */
export async function inspectTiff(source: RangeSource): Promise<TiffInspection> {
  const file = await openTiff(source);
  try {
    return describeTiff(file, source.size);
  } finally {
    await file.close();
  }
}
