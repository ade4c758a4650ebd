export * from './augment/augment.js';
export * from './augment/crop.js';
export * from './augment/params.js';
export { augmentTileReference } from './augment/reference.js';
export { Random, ValueNoise } from './random.js';
export * from './sampling/region-map.js';
export * from './sampling/sampler.js';
export * from './synthetic/tissue.js';
