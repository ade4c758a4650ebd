export { decodeMaskPng, encodeMaskPng, type MaskPngOptions } from './mask-png.js';
export { readMaskPng, writeMaskPng } from './mask-png-file.js';
export { removeStaleTemporaries, writeFileAtomic } from './write-file-atomic.js';
