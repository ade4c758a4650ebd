import type { SyntheticSlide } from './tissue.js';

type Ring = [number, number][];

/** A QuPath annotation as Kaggle's files hold them (the classification colours are QuPath's packed ARGB). */
function feature(
  name: string,
  colorRGB: number,
  geometry: { type: 'Polygon'; coordinates: Ring[] },
  isLocked: boolean,
) {
  return {
    type: 'Feature',
    id: 'PathAnnotationObject',
    geometry,
    properties: { classification: { name, colorRGB }, isLocked, measurements: [] },
  };
}

/** The glomerulus file `{id}.json`: a list of Polygon features classified "glomerulus". */
export function glomerulusFeatures(slide: SyntheticSlide) {
  return slide.glomeruli.map((g) =>
    feature('glomerulus', -3140401, { type: 'Polygon', coordinates: [g.polygon] }, true),
  );
}

/**
 * The anatomical-structure file `{id}-anatomical-structure.json`: the medulla, and the cortex as the tissue
 * outline with the medulla cut out as a hole (reversed, as holes wind the other way).
 */
export function anatomyFeatures(slide: SyntheticSlide) {
  return [
    feature('Medulla', -65536, { type: 'Polygon', coordinates: [slide.medulla] }, false),
    feature(
      'Cortex',
      -1091353,
      { type: 'Polygon', coordinates: [slide.cortex, [...slide.medulla].reverse()] },
      false,
    ),
  ];
}
