export {};
export * from './tiff/index.js';
export * from './cache/index.js';
