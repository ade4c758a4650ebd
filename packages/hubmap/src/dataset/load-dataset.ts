import {
  forEachRleRun,
  type OpenTiffOptions,
  openTiff,
  RleError,
  readCsvTable,
  type TiffFile,
} from '@nephron/io';
import { type DataFolder, nodeDataFolder, readSourceText, sourceChunks } from './data-folder.js';
import { type ImageInformation, readImageInformation } from './information.js';

/** One slide of a dataset. Paths are relative to the dataset folder. */
export interface DatasetImage {
  id: string;
  split: 'train' | 'test';
  /** The TIFF, e.g. `train/aaa6a05cc.tiff`. */
  image: string;
  /** Full-resolution size, read from the TIFF. */
  width: number;
  height: number;
  /** Glomerulus polygons (QuPath GeoJSON), when present. */
  glomeruli?: string;
  /** Cortex and medulla polygons (`{id}-anatomical-structure.json`), when present. */
  anatomy?: string;
}

/** A training slide and its true mask as a Kaggle run-length encoding. */
export interface TrainImage extends DatasetImage {
  split: 'train';
  encoding: string;
}

/** A validated Kaggle-layout dataset. */
export interface Dataset {
  folder: DataFolder;
  /** In train.csv order. */
  train: TrainImage[];
  /** In the order a submission lists them: sample_submission.csv's, else sorted by id. */
  test: DatasetImage[];
  /** The dataset-information CSV that was checked against, if any. */
  information?: string;
  /** Oddities that do not stop the dataset from being used (a TIFF no CSV mentions, ...). */
  warnings: string[];
}

/** Everything wrong with a dataset folder, one problem per line, each naming the file and the image. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly problems: readonly string[];

  constructor(folder: string, problems: readonly string[]) {
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    super(`${folder}: the dataset has ${count}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

export interface LoadDatasetOptions {
  /** The dataset-information CSV, relative to the folder; found by name (`*dataset_information.csv`) when left out. */
  information?: string;
}

const TIFF_NAME = /^(.+)\.tiff?$/i;
const INFORMATION_NAME = /dataset_information\.csv$/i;

/**
 * Reads and checks a dataset in the Kaggle HuBMAP layout:
 *
 *     train.csv                      id,encoding (Kaggle run-length encoding of each mask)
 *     train/{id}.tiff                the slides, with optional {id}.json glomerulus polygons
 *     {id}-anatomical-structure.json cortex and medulla (in train/ or test/ as Kaggle has them, or on top)
 *     *dataset_information.csv       optional: image_file, width_pixels, height_pixels
 *     test/*.tiff, sample_submission.csv
 *
 * Every problem is collected before failing, so one run lists them all: a train.csv row without its TIFF,
 * a TIFF that cannot be read, a size that disagrees with the information CSV, an encoding that is malformed
 * or runs past the end of its image. Only the TIFF headers are read, not their pixels.
 */
export async function loadDataset(
  dir: string | DataFolder,
  options: LoadDatasetOptions = {},
): Promise<Dataset> {
  const folder = typeof dir === 'string' ? nodeDataFolder(dir) : dir;
  const top = await folder.list('');
  if (top === undefined) throw new DatasetError(folder.name, ['the folder does not exist']);
  const files = {
    '': new Set(top),
    train: new Set((await folder.list('train')) ?? []),
    test: new Set((await folder.list('test')) ?? []),
  };
  const problems: string[] = [];
  const warnings: string[] = [];

  const informationName = options.information ?? top.filter((name) => INFORMATION_NAME.test(name)).sort()[0];
  let information = new Map<string, ImageInformation>();
  if (informationName !== undefined) {
    try {
      information = await readImageInformation(await csvChunks(folder, informationName), informationName);
    } catch (error) {
      problems.push(messageOf(error));
    }
  }

  /** Size from the TIFF header, checked against the information CSV. */
  const measure = async (
    id: string,
    path: string,
  ): Promise<{ width: number; height: number } | undefined> => {
    let size: { width: number; height: number };
    try {
      const tiff = await openTiff(await folder.open(path));
      const full = tiff.levels[0];
      size = { width: full.width, height: full.height };
      await tiff.close();
    } catch (error) {
      problems.push(`image "${id}": ${messageOf(error)}`);
      return information.get(id);
    }
    const stated = information.get(id);
    if (stated && (stated.width !== size.width || stated.height !== size.height)) {
      problems.push(
        `${path} is ${size.width} x ${size.height} pixels, but ${informationName} line ${stated.line} says ${stated.width} x ${stated.height}`,
      );
    } else if (informationName !== undefined && !stated) {
      warnings.push(`${informationName} does not describe image "${id}"`);
    }
    return size;
  };

  const annotations = async (id: string, split: 'train' | 'test') => {
    const found: Pick<DatasetImage, 'glomeruli' | 'anatomy'> = {};
    if (files[split].has(`${id}.json`)) found.glomeruli = `${split}/${id}.json`;
    const anatomy = `${id}-anatomical-structure.json`;
    if (files[split].has(anatomy)) found.anatomy = `${split}/${anatomy}`;
    else if (files[''].has(anatomy)) found.anatomy = anatomy;
    for (const path of [found.glomeruli, found.anatomy]) {
      if (path !== undefined) {
        const problem = await checkGeoJson(folder, path);
        if (problem) problems.push(problem);
      }
    }
    return found;
  };

  const tiffOf = (id: string, split: 'train' | 'test') =>
    [`${id}.tiff`, `${id}.tif`].find((name) => files[split].has(name));

  // Training images, as train.csv lists them.
  const train: TrainImage[] = [];
  if (!files[''].has('train.csv')) {
    problems.push('train.csv is missing (it lists the training images: id,encoding)');
  } else {
    const rows: { id: string; encoding: string; line: number }[] = [];
    const lines = new Map<string, number>();
    try {
      for await (const { line, values } of readCsvTable(await csvChunks(folder, 'train.csv'), {
        source: 'train.csv',
        required: ['id', 'encoding'],
      })) {
        const earlier = lines.get(values.id);
        if (earlier !== undefined) {
          problems.push(`train.csv line ${line}: image "${values.id}" is already listed on line ${earlier}`);
          continue;
        }
        lines.set(values.id, line);
        rows.push({ id: values.id, encoding: values.encoding, line });
      }
    } catch (error) {
      problems.push(messageOf(error));
    }
    for (const { id, encoding, line } of rows) {
      const name = tiffOf(id, 'train');
      if (name === undefined) {
        problems.push(`train.csv line ${line}: image "${id}" has no train/${id}.tiff`);
        continue;
      }
      const image = `train/${name}`;
      const size = await measure(id, image);
      if (size === undefined) continue;
      try {
        forEachRleRun(encoding, { ...size, id }, () => {});
      } catch (error) {
        if (!(error instanceof RleError)) throw error;
        problems.push(`train.csv line ${line}: ${error.message}`);
        continue;
      }
      train.push({ id, split: 'train', image, ...size, ...(await annotations(id, 'train')), encoding });
    }
    for (const name of files.train) {
      const id = TIFF_NAME.exec(name)?.[1];
      if (id !== undefined && !lines.has(id)) warnings.push(`train/${name} is not listed in train.csv`);
    }
  }

  // Test images, in the order the sample submission gives.
  const testIds = [...files.test].flatMap((name) => TIFF_NAME.exec(name)?.[1] ?? []).sort();
  let order = testIds;
  if (files[''].has('sample_submission.csv')) {
    try {
      const listed: string[] = [];
      for await (const { line, values } of readCsvTable(await csvChunks(folder, 'sample_submission.csv'), {
        source: 'sample_submission.csv',
        required: ['id'],
      })) {
        if (tiffOf(values.id, 'test') === undefined) {
          problems.push(
            `sample_submission.csv line ${line}: image "${values.id}" has no test/${values.id}.tiff`,
          );
        } else listed.push(values.id);
      }
      for (const id of testIds) {
        if (!listed.includes(id))
          warnings.push(`test/${tiffOf(id, 'test')} is not listed in sample_submission.csv`);
      }
      order = [...listed, ...testIds.filter((id) => !listed.includes(id))];
    } catch (error) {
      problems.push(messageOf(error));
    }
  }
  const test: DatasetImage[] = [];
  for (const id of order) {
    const image = `test/${tiffOf(id, 'test')}`;
    const size = await measure(id, image);
    if (size !== undefined)
      test.push({ id, split: 'test', image, ...size, ...(await annotations(id, 'test')) });
  }

  if (problems.length > 0) throw new DatasetError(folder.name, problems);
  return {
    folder,
    train,
    test,
    ...(informationName === undefined ? {} : { information: informationName }),
    warnings,
  };
}

/** Opens one slide of a dataset for reading. */
export async function openDatasetImage(
  dataset: Dataset,
  image: DatasetImage,
  options: OpenTiffOptions = {},
): Promise<TiffFile> {
  return openTiff(await dataset.folder.open(image.image), options);
}

/** A CSV of the folder as a stream of byte pieces that closes its file when done. */
async function csvChunks(folder: DataFolder, path: string): Promise<AsyncIterable<Uint8Array>> {
  const source = await folder.open(path);
  return (async function* () {
    try {
      yield* sourceChunks(source);
    } finally {
      await source.close();
    }
  })();
}

/** An annotation file must at least be JSON holding a list of features or a FeatureCollection. */
async function checkGeoJson(folder: DataFolder, path: string): Promise<string | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readSourceText(await folder.open(path)));
  } catch (error) {
    return `${path}: not valid JSON (${messageOf(error)})`;
  }
  const features = Array.isArray(value) ? value : (value as { features?: unknown } | null)?.features;
  if (!Array.isArray(features)) return `${path}: neither a list of GeoJSON features nor a FeatureCollection`;
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
