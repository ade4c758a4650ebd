export { type BinaryMask, checkSameSize, wordsPerRow } from './binary-mask.js';
export { BitMask, packedRowRuns } from './bit-mask.js';
export { type Component, type Components, connectedComponents, labelImage } from './components.js';
export { Mask } from './mask.js';
export {
  cropMask,
  maskCoverage,
  resizeMaskArea,
  resizeMaskNearest,
  scaledSize,
  scaleMask,
} from './resize.js';
export { type TracedPolygon, type TraceOptions, traceContours } from './trace-contours.js';
