import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCsvTable } from '../csv/csv-table.js';
import type { Mask } from '../masks/mask.js';
import { rleDecode } from '../rle/rle-decode.js';
import { annotationsOfClass, parseQupathGeoJson } from './qupath-geojson.js';
import { rasterizeAnnotations } from './rasterize.js';

const DATA = fileURLToPath(new URL('../../../../../shared/data/hubmap-vanderbilt/', import.meta.url));
const present = existsSync(DATA);

/** Whether (x, y) has a differently valued 8-neighbour in `mask`: a pixel the outline passes through. */
function onEdge(mask: Mask, x: number, y: number): boolean {
  const { width, height, data } = mask;
  const v = data[y * width + x];
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      const yy = y + dy;
      if (xx >= 0 && yy >= 0 && xx < width && yy < height && data[yy * width + xx] !== v) return true;
    }
  }
  return false;
}

describe.skipIf(!present)(
  'rasterised glomerulus polygons against the RLE masks (needs ../shared/data)',
  () => {
    it('agree on all but boundary pixels on every train image', () => {
      const info = parseCsvTable(readFileSync(`${DATA}dataset_information.csv`, 'utf8'));
      const rles = new Map(
        parseCsvTable(readFileSync(`${DATA}train.csv`, 'utf8')).map((r) => [r.values.id, r.values.encoding]),
      );
      const rows: string[] = [];
      let totalTruth = 0;
      let totalDiff = 0;
      let totalInterior = 0;
      for (const { values } of info) {
        const id = values.image_file.replace(/\.tiff?$/, '');
        const encoding = rles.get(id);
        if (encoding === undefined) continue;
        const width = Number(values.width_pixels);
        const height = Number(values.height_pixels);
        const truth = rleDecode(encoding, width, height, id);
        const file = `${DATA}train/${id}.json`;
        const glomeruli = annotationsOfClass(
          parseQupathGeoJson(readFileSync(file, 'utf8'), file),
          'glomerulus',
        );
        const drawn = rasterizeAnnotations(glomeruli, width, height);
        let truthPixels = 0;
        let diff = 0;
        let interior = 0;
        let intersection = 0;
        let union = 0;
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const a = truth.data[y * width + x];
            const b = drawn.data[y * width + x];
            truthPixels += a;
            intersection += a & b;
            union += a | b;
            if (a !== b) {
              diff++;
              if (!onEdge(truth, x, y) && !onEdge(drawn, x, y)) interior++;
            }
          }
        }
        rows.push(
          `${id}  ${width}x${height}  glomeruli ${String(glomeruli.length).padStart(3)}  mask px ${String(truthPixels).padStart(8)}  ` +
            `differ ${String(diff).padStart(6)} (${((100 * diff) / truthPixels).toFixed(2)}%)  not on a boundary ${interior}  IoU ${(intersection / union).toFixed(4)}`,
        );
        expect(intersection / union).toBeGreaterThan(0.98);
        totalTruth += truthPixels;
        totalDiff += diff;
        totalInterior += interior;
      }
      rows.push(
        `all: mask px ${totalTruth}, differ ${totalDiff} (${((100 * totalDiff) / totalTruth).toFixed(2)}%), not on a boundary ${totalInterior} (${((100 * totalInterior) / totalTruth).toFixed(4)}%)`,
      );
      console.log(`polygon raster vs RLE agreement\n${rows.join('\n')}`);
      expect(rows.length).toBe(9);
      // Every disagreement sits on an outline: the masks were drawn with the boundary pixels included.
      expect(totalInterior).toBe(0);
    });
  },
);
