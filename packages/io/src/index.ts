export * from './annotations/index.js';
export * from './cache/index.js';
export * from './csv/index.js';
export * from './masks/index.js';
export * from './png/index.js';
export * from './rle/index.js';
export { encodeTiledBigTiff, type TiledBigTiffSpec, writeTiledBigTiff } from './tiff/bigtiff-writer.js';
export * from './tiff/index.js';
