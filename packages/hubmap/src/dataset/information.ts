import { type CsvInput, readCsvTable } from '@nephron/io';

/** What a dataset-information CSV says about one image. */
export interface ImageInformation {
  id: string;
  width: number;
  height: number;
  /** Line of the CSV the image is described on, for messages. */
  line: number;
}

/**
 * Reads a dataset-information CSV (Kaggle's `HuBMAP-20-dataset_information.csv` and its kind): one row per
 * image with `image_file`, `width_pixels` and `height_pixels`; other columns are ignored. Ids are the file
 * names without their extension.
 */
export async function readImageInformation(
  input: CsvInput,
  source: string,
): Promise<Map<string, ImageInformation>> {
  const images = new Map<string, ImageInformation>();
  const required = ['image_file', 'width_pixels', 'height_pixels'];
  for await (const { line, values } of readCsvTable(input, { source, required })) {
    const id = values.image_file.replace(/\.tiff?$/i, '');
    const width = Number(values.width_pixels);
    const height = Number(values.height_pixels);
    for (const [column, value] of [
      ['width_pixels', width],
      ['height_pixels', height],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`${source}: line ${line}: ${column} "${values[column]}" is not a positive integer`);
      }
    }
    const earlier = images.get(id);
    if (earlier)
      throw new Error(`${source}: line ${line}: image "${id}" is already described on line ${earlier.line}`);
    images.set(id, { id, width, height, line });
  }
  return images;
}
