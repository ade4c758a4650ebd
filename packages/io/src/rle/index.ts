export {
  checkRleTable,
  formatRleCheckReport,
  type ImageSizes,
  imageSizesFromInfo,
  type RleCheckReport,
  type RleCheckRow,
} from './rle-check.js';
export { readRleFromCsv, rleCheckFiles, rleDecodeToPng, rleEncodeFromPng } from './rle-commands.js';
export {
  type MaskBand,
  paintColumnMajorRun,
  rleDecode,
  rleDecodeBits,
  rleDecodeInto,
  rleDecodeRowBands,
} from './rle-decode.js';
export { RleEncoder, rleEncode, rleEncodeBands, rleRuns, rleText } from './rle-encode.js';
export { RleError } from './rle-error.js';
export { forEachRleRun, parseRle, type RleRuns, type RleShape, type RleText } from './rle-parse.js';
