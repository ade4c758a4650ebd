import { type Annotation, parseQupathGeoJson } from './qupath-geojson.js';

/** Reads a QuPath / Kaggle GeoJSON file from disk (Node only); errors name the file. */
export async function readQupathGeoJsonFile(path: string): Promise<Annotation[]> {
  const fs = await import('node:fs/promises');
  return parseQupathGeoJson(await fs.readFile(path, 'utf8'), path);
}
