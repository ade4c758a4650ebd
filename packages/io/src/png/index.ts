export { decodeMaskPng, encodeMaskPng, type MaskPngOptions } from './mask-png.js';
export { readMaskPng, writeMaskPng } from './mask-png-file.js';
export { writeFileAtomic } from './write-file-atomic.js';
