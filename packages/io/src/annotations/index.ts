export { readQupathGeoJsonFile } from './geojson-file.js';
export {
  type Point,
  type PolygonRings,
  polygonArea,
  polygonsBounds,
  type Ring,
  ringSignedArea2,
} from './geometry.js';
export {
  type Annotation,
  AnnotationError,
  annotationsOfClass,
  parseQupathGeoJson,
  type QupathFeature,
  type QupathFeatureOptions,
  readQupathGeoJson,
  stringifyQupathGeoJson,
  toQupathFeatures,
} from './qupath-geojson.js';
export { type RasterizeOptions, rasterizeAnnotations, rasterizePolygons } from './rasterize.js';
