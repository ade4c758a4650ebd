export {};
export * from './tiff/index.js';
