import {
  encodeTiledBigTiff,
  formatCsvRow,
  Mask,
  rleEncode,
  type TiledBigTiffSpec,
  writeTiledBigTiff,
} from '@nephron/io';
import { Random } from '../random.js';
import { anatomyFeatures, glomerulusFeatures } from './geojson.js';
import { renderSlide, type SyntheticSlide } from './tissue.js';

export interface SyntheticDatasetOptions {
  trainImages: number;
  testImages: number;
  /** Size of every slide in pixels. */
  width: number;
  height: number;
  seed: number;
  /** Mean glomerulus radius in pixels (default: the slide's shorter side / 24). */
  glomerulusRadius?: number;
  /** TIFF tile side, a multiple of 16 (default 256). */
  tileSize?: number;
}

/** What was written for one slide; `seed` re-renders it exactly with {@link renderSlide}. */
export interface SyntheticImageSummary {
  id: string;
  split: 'train' | 'test';
  seed: number;
  glomeruli: number;
  maskPixels: number;
}

export interface SyntheticDatasetSummary {
  dir: string;
  images: SyntheticImageSummary[];
}

/** One file of a synthetic dataset: text, or a slide that the writer encodes as a tiled TIFF. */
export type SyntheticFile = { path: string; text: string } | { path: string; slide: TiledBigTiffSpec };

/**
 * The files of a synthetic dataset in the Kaggle HuBMAP layout, one after another, so that training,
 * prediction and scoring can run with no download:
 *
 *     train/{id}.tiff, train/{id}.json, train/{id}-anatomical-structure.json
 *     test/{id}.tiff, test/{id}-anatomical-structure.json
 *     dataset_information.csv, sample_submission.csv, solution.csv (the test masks, for scoring), train.csv
 *
 * train.csv comes last, so a writer that stops half-way leaves a folder without it, which no loader accepts.
 * `summary` receives what was made of each slide.
 */
export function* syntheticDatasetFiles(
  options: SyntheticDatasetOptions,
  summary: SyntheticImageSummary[] = [],
): Generator<SyntheticFile> {
  checkOptions(options);
  const random = new Random(options.seed);
  const ids = distinctIds(options.trainImages + options.testImages, random);
  const tileSize = options.tileSize ?? 256;
  const trainRows: string[] = [formatCsvRow(['id', 'encoding'])];
  const solutionRows: string[] = [formatCsvRow(['id', 'encoding'])];
  const submissionRows: string[] = [formatCsvRow(['id', 'predicted'])];
  const informationRows: string[] = [
    formatCsvRow([
      'image_file',
      'width_pixels',
      'height_pixels',
      'anatomical_structures_segmention_file',
      'glomerulus_segmentation_file',
      'split',
    ]),
  ];
  for (const [k, id] of ids.entries()) {
    const split = k < options.trainImages ? 'train' : 'test';
    const seed = random.int(0, 2 ** 31);
    const slide = renderSlide({
      width: options.width,
      height: options.height,
      seed,
      ...(options.glomerulusRadius === undefined ? {} : { glomerulusRadius: options.glomerulusRadius }),
    });
    yield { path: `${split}/${id}.tiff`, slide: slideTiles(slide, tileSize) };
    const anatomy = `${id}-anatomical-structure.json`;
    yield { path: `${split}/${anatomy}`, text: JSON.stringify(anatomyFeatures(slide), null, 1) };
    const encoding = rleEncode(new Mask(slide.width, slide.height, slide.mask));
    if (split === 'train') {
      yield { path: `${split}/${id}.json`, text: JSON.stringify(glomerulusFeatures(slide), null, 1) };
      trainRows.push(formatCsvRow([id, encoding]));
    } else {
      solutionRows.push(formatCsvRow([id, encoding]));
      submissionRows.push(formatCsvRow([id, '']));
    }
    informationRows.push(
      formatCsvRow([
        `${id}.tiff`,
        slide.width,
        slide.height,
        anatomy,
        split === 'train' ? `${id}.json` : '',
        split,
      ]),
    );
    let maskPixels = 0;
    for (const v of slide.mask) maskPixels += v;
    summary.push({ id, split, seed, glomeruli: slide.glomeruli.length, maskPixels });
  }
  yield { path: 'solution.csv', text: solutionRows.join('') };
  yield { path: 'sample_submission.csv', text: submissionRows.join('') };
  yield { path: 'dataset_information.csv', text: informationRows.join('') };
  yield { path: 'train.csv', text: trainRows.join('') };
}

/**
 * Writes a synthetic dataset (see {@link syntheticDatasetFiles}) into a folder on the local disk. Slides are
 * tiled, deflate-compressed (lossless) TIFFs, so the pixels read back are the rendered ones. The folder
 * appears whole or not at all: everything is written into a temporary sibling folder that is renamed into
 * place at the end. The target must not exist, or be an empty folder. Node only.
 */
export async function writeSyntheticDataset(
  dir: string,
  options: SyntheticDatasetOptions,
): Promise<SyntheticDatasetSummary> {
  checkOptions(options);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const existing = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new Error(`${dir}: cannot use as the dataset folder (${error.code ?? error.message})`);
  });
  if (existing !== undefined && existing.length > 0)
    throw new Error(`${dir}: already exists and is not empty`);

  const temp = path.join(
    path.dirname(path.resolve(dir)),
    `.${path.basename(dir)}.${process.pid}.${Date.now().toString(36)}.tmp`,
  );
  const images: SyntheticImageSummary[] = [];
  try {
    await fs.mkdir(path.join(temp, 'train'), { recursive: true });
    await fs.mkdir(path.join(temp, 'test'));
    for (const file of syntheticDatasetFiles(options, images)) {
      const target = path.join(temp, file.path);
      if ('slide' in file) await writeTiledBigTiff(target, file.slide);
      else await fs.writeFile(target, file.text);
    }
    // rename() cannot replace a folder, even an empty one, on every platform; remove it first.
    if (existing !== undefined) await fs.rmdir(dir);
    await fs.rename(temp, dir);
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw error;
  }
  return { dir, images };
}

/**
 * Writes a synthetic dataset through any folder whose writes are atomic per file (a browser's private file
 * system, a host's files), building each TIFF in memory: for the small slides of the demo and of tests. A
 * folder left half-written has no train.csv, which is written last.
 */
export async function writeSyntheticDatasetTo(
  folder: { readonly name: string; write(path: string, data: Uint8Array | string): Promise<void> },
  options: SyntheticDatasetOptions,
): Promise<SyntheticDatasetSummary> {
  const images: SyntheticImageSummary[] = [];
  for (const file of syntheticDatasetFiles(options, images)) {
    const data =
      'slide' in file ? await encodeTiledBigTiff(file.slide, `${folder.name}/${file.path}`) : file.text;
    await folder.write(file.path, data);
  }
  return { dir: folder.name, images };
}

function checkOptions(options: SyntheticDatasetOptions): void {
  const counts: [string, number, number][] = [
    ['trainImages', options.trainImages, 1],
    ['testImages', options.testImages, 0],
    ['width', options.width, 16],
    ['height', options.height, 16],
  ];
  for (const [name, value, least] of counts) {
    if (!Number.isInteger(value) || value < least) {
      throw new RangeError(
        `writeSyntheticDataset: ${name} must be an integer of at least ${least}, got ${value}`,
      );
    }
  }
  if (!Number.isInteger(options.seed))
    throw new RangeError(`writeSyntheticDataset: seed must be an integer, got ${options.seed}`);
}

/** Kaggle-like ids: nine hexadecimal digits, distinct. */
function distinctIds(count: number, random: Random): string[] {
  const ids = new Set<string>();
  while (ids.size < count) {
    let id = '';
    for (let k = 0; k < 9; k++) id += random.int(0, 16).toString(16);
    ids.add(id);
  }
  return [...ids];
}

/** The slide cut into TIFF tiles; tiles past the right and bottom edges are padded with glass. */
function slideTiles(slide: SyntheticSlide, tileSize: number): TiledBigTiffSpec {
  const { width, height, rgb } = slide;
  return {
    width,
    height,
    tileSize,
    tile(tx: number, ty: number): Uint8Array {
      const tile = new Uint8Array(tileSize * tileSize * 3).fill(255);
      const x0 = tx * tileSize;
      const columns = Math.min(tileSize, width - x0);
      for (let row = 0; row < tileSize; row++) {
        const y = ty * tileSize + row;
        if (y >= height) break;
        const from = (y * width + x0) * 3;
        tile.set(rgb.subarray(from, from + columns * 3), row * tileSize * 3);
      }
      return tile;
    },
  };
}
