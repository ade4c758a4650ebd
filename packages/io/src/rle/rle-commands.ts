import { readCsvFile } from '../csv/csv-file.js';
import { readMaskPng, writeMaskPng } from '../png/mask-png-file.js';
import { checkRleTable, imageSizesFromInfo, type RleCheckReport } from './rle-check.js';
import { rleDecodeBits } from './rle-decode.js';
import { rleRuns, rleText } from './rle-encode.js';

/*
 * The file-level work behind `nephron rle decode | encode | check` (Node only: they read and write files).
 * The CLI parses flags, calls these and prints; all messages name the file and row.
 */

/** Finds the encoding of one image in a train.csv or submission (`id` and `encoding`/`predicted`). */
export async function readRleFromCsv(csvPath: string, id: string): Promise<string> {
  for await (const { values } of readCsvFile(csvPath, { required: ['id'] })) {
    if (values.id !== id) continue;
    const text = values.encoding ?? values.predicted;
    if (text === undefined) throw new Error(`${csvPath}: no encoding or predicted column`);
    return text;
  }
  throw new Error(`${csvPath}: no row with id "${id}"`);
}

/** `nephron rle decode --csv F --id ID --width W --height H --out mask.png`: returns the pixel count. */
export async function rleDecodeToPng(options: {
  csv: string;
  id: string;
  width: number;
  height: number;
  out: string;
}): Promise<{ pixels: number }> {
  const text = await readRleFromCsv(options.csv, options.id);
  const mask = rleDecodeBits(text, options.width, options.height, options.id);
  await writeMaskPng(options.out, mask);
  return { pixels: mask.countOnes() };
}

/** `nephron rle encode --mask mask.png`: the encoding of a mask PNG, in pieces to print as they come. */
export async function rleEncodeFromPng(maskPath: string): Promise<Iterable<string>> {
  return rleText(rleRuns(await readMaskPng(maskPath)));
}

/** `nephron rle check --csv F --info dataset_information.csv`: validates every row against the sizes. */
export async function rleCheckFiles(options: { csv: string; info: string }): Promise<RleCheckReport> {
  const infoRecords = [];
  for await (const record of readCsvFile(options.info, {
    required: ['image_file', 'width_pixels', 'height_pixels'],
  })) {
    infoRecords.push(record);
  }
  const sizes = imageSizesFromInfo(infoRecords, options.info);
  return checkRleTable(readCsvFile(options.csv, { required: ['id'] }), sizes);
}
