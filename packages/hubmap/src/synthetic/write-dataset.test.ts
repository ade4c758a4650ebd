import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bytesSource,
  openTiff,
  openTiffFile,
  parseQupathGeoJson,
  rasterizeAnnotations,
  readRegion,
  rleDecode,
} from '@nephron/io';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../dataset/load-dataset.js';
import { scoreSubmission } from '../scoring/score-submission.js';
import { memoryRunFolder } from '../training/run-folder.js';
import { renderSlide } from './tissue.js';
import { writeSyntheticDataset, writeSyntheticDatasetTo } from './write-dataset.js';

const root = mkdtempSync(join(tmpdir(), 'nephron-synthetic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// 200 x 176 with 64-pixel tiles: the last column and row of tiles are partial.
const options = { trainImages: 2, testImages: 1, width: 200, height: 176, seed: 7, tileSize: 64 };

describe('writeSyntheticDataset', () => {
  const dir = join(root, 'data');
  const written = writeSyntheticDataset(dir, options);

  it('writes a folder that loadDataset accepts, with masks, polygons and anatomy', async () => {
    const summary = await written;
    const dataset = await loadDataset(dir);
    expect(dataset.warnings).toEqual([]);
    expect(dataset.information).toBe('dataset_information.csv');
    expect(dataset.train.map((i) => i.id)).toEqual(
      summary.images.filter((i) => i.split === 'train').map((i) => i.id),
    );
    expect(dataset.test.map((i) => i.id)).toEqual(
      summary.images.filter((i) => i.split === 'test').map((i) => i.id),
    );
    for (const image of dataset.train) {
      expect([image.width, image.height]).toEqual([200, 176]);
      expect(image.glomeruli).toBe(`train/${image.id}.json`);
      expect(image.anatomy).toBe(`train/${image.id}-anatomical-structure.json`);
    }
    expect(dataset.test[0].anatomy).toBe(`test/${dataset.test[0].id}-anatomical-structure.json`);
    expect(dataset.test[0].glomeruli).toBeUndefined();
    for (const image of summary.images) expect(image.id).toMatch(/^[0-9a-f]{9}$/);
  });

  it('stores the rendered pixels losslessly and the mask exactly in train.csv and solution.csv', async () => {
    const summary = await written;
    const dataset = await loadDataset(dir);
    const solution = readFileSync(join(dir, 'solution.csv'), 'utf8').trim().split('\n').slice(1);
    for (const image of summary.images) {
      const slide = renderSlide({ width: 200, height: 176, seed: image.seed });
      expect(slide.glomeruli.length).toBe(image.glomeruli);
      const tiff = await openTiffFile(join(dir, image.split, `${image.id}.tiff`));
      const region = await readRegion(tiff, { x: 0, y: 0, width: 200, height: 176 });
      await tiff.close();
      expect(Buffer.from(region.data).equals(Buffer.from(slide.rgb))).toBe(true);
      const encoding =
        image.split === 'train'
          ? (dataset.train.find((t) => t.id === image.id)?.encoding as string)
          : (solution.find((row) => row.startsWith(`${image.id},`)) as string).split(',')[1];
      const mask = rleDecode(encoding, 200, 176, image.id);
      expect(Buffer.from(mask.data).equals(Buffer.from(slide.mask))).toBe(true);
      expect(mask.countOnes()).toBe(image.maskPixels);
      expect(image.maskPixels).toBeGreaterThan(0);
    }
  });

  it('writes glomerulus polygons that rasterise to the mask but for boundary pixels, inside the cortex', async () => {
    const summary = await written;
    for (const image of summary.images.filter((i) => i.split === 'train')) {
      const polygons = parseQupathGeoJson(readFileSync(join(dir, 'train', `${image.id}.json`), 'utf8'));
      expect(polygons.map((p) => p.classification)).toEqual(Array(image.glomeruli).fill('glomerulus'));
      const drawn = rasterizeAnnotations(polygons, 200, 176);
      const slide = renderSlide({ width: 200, height: 176, seed: image.seed });
      let both = 0;
      let either = 0;
      for (let i = 0; i < slide.mask.length; i++) {
        both += slide.mask[i] & drawn.data[i];
        either += slide.mask[i] | drawn.data[i];
      }
      expect(both / either).toBeGreaterThan(0.98);
      const anatomy = parseQupathGeoJson(
        readFileSync(join(dir, 'train', `${image.id}-anatomical-structure.json`), 'utf8'),
      );
      expect(anatomy.map((a) => a.classification)).toEqual(['Medulla', 'Cortex']);
      const medulla = rasterizeAnnotations(anatomy, 200, 176, { classification: 'Medulla' });
      const cortex = rasterizeAnnotations(anatomy, 200, 176, { classification: 'Cortex' });
      let overlap = 0;
      let glomeruliInCortex = 0;
      for (let i = 0; i < slide.mask.length; i++) {
        overlap += medulla.data[i] & cortex.data[i];
        glomeruliInCortex += slide.mask[i] & cortex.data[i];
      }
      expect(overlap).toBe(0);
      expect(medulla.countOnes()).toBeGreaterThan(0);
      expect(glomeruliInCortex / image.maskPixels).toBeGreaterThan(0.95);
    }
  });

  it('writes a sample submission that scores 0 against the solution, and a solution that scores 1', async () => {
    await written;
    const sample = readFileSync(join(dir, 'sample_submission.csv'), 'utf8');
    const solution = readFileSync(join(dir, 'solution.csv'), 'utf8');
    expect((await scoreSubmission(sample, solution)).mean).toBe(0);
    expect((await scoreSubmission(solution, solution)).mean).toBe(1);
  });

  it('is the same dataset for the same seed', async () => {
    await written;
    const again = join(root, 'again');
    await writeSyntheticDataset(again, options);
    for (const file of ['train.csv', 'solution.csv', 'dataset_information.csv']) {
      expect(readFileSync(join(again, file), 'utf8')).toBe(readFileSync(join(dir, file), 'utf8'));
    }
  });

  it('refuses a non-empty target and leaves nothing behind when it fails', async () => {
    const full = join(root, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    await expect(writeSyntheticDataset(full, options)).rejects.toThrow(
      `${full}: already exists and is not empty`,
    );
    expect(readdirSync(full)).toEqual(['keep.txt']);
    const before = readdirSync(root).sort();
    // 40 is not a multiple of 16: the TIFF writer fails after the folder was started.
    await expect(writeSyntheticDataset(join(root, 'failed'), { ...options, tileSize: 40 })).rejects.toThrow(
      'not a multiple of 16',
    );
    expect(existsSync(join(root, 'failed'))).toBe(false);
    expect(readdirSync(root).sort()).toEqual(before);
  });

  it('rejects bad options by name', async () => {
    await expect(writeSyntheticDataset(join(root, 'x'), { ...options, trainImages: 0 })).rejects.toThrow(
      'trainImages must be an integer of at least 1, got 0',
    );
  });

  it('writes the same files through a folder of atomic writes (as a page does), train.csv last', async () => {
    const summary = await written;
    const folder = memoryRunFolder('memory/data');
    const order: string[] = [];
    const write = folder.write;
    folder.write = async (path, data) => {
      order.push(path);
      await write(path, data);
    };
    expect(await writeSyntheticDatasetTo(folder, options)).toEqual({ ...summary, dir: 'memory/data' });
    expect(order.at(-1)).toBe('train.csv');
    const text = (path: string) => new TextDecoder().decode(folder.files.get(path));
    for (const path of order.filter((p) => !p.endsWith('.tiff'))) {
      expect(text(path)).toBe(readFileSync(join(dir, path), 'utf8'));
    }
    expect(order.length).toBe(
      readdirSync(dir, { recursive: true }).filter((p) => String(p).includes('.')).length,
    );
    for (const image of summary.images) {
      const path = `${image.split}/${image.id}.tiff`;
      const tiff = await openTiff(bytesSource(folder.files.get(path)!, path));
      const region = await readRegion(tiff, { x: 0, y: 0, width: 200, height: 176 });
      await tiff.close();
      const slide = renderSlide({ width: 200, height: 176, seed: image.seed });
      expect(Buffer.from(region.data).equals(Buffer.from(slide.rgb))).toBe(true);
    }
  });
});
