import { fileSource } from './file-source.js';
import { type OpenTiffOptions, openTiff, type TiffFile } from './tiff-file.js';

/** Node: opens a local TIFF by path with ranged reads. */
export async function openTiffFile(path: string, options: OpenTiffOptions = {}): Promise<TiffFile> {
  return openTiff(await fileSource(path), options);
}
