import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSegmentationModel } from '@nephron/hubmap';
import { Mask, writeTiledBigTiff } from '@nephron/io';
import { saveSafetensors } from '@nephron/nn';
import { runCli } from '../cli.js';
import { openEngine } from '../engine.js';
import type { HostFiles } from '../host/files.js';
import { nodeFiles } from '../host/node-files.js';
import { memoryHost } from '../testing/memory-host.js';

// Inputs the browser tests give the page and the Node host alike, and the Node side of each comparison.

/**
 * Files of `dir` under the paths the browser host gives picked files, so both hosts get the same lines. Files are
 * named by those paths too, as the page names them, so messages that name a file read the same.
 */
export function filesIn(dir: string): HostFiles {
  const files = nodeFiles();
  const at = (path: string) => join(dir, path);
  return {
    async open(path) {
      const source = await files.open(at(path));
      return {
        name: path,
        size: source.size,
        read: (offset, length) => source.read(offset, length),
        close: () => source.close(),
      };
    },
    write: (path, data) => files.write(at(path), data),
    list: (path) => files.list(at(path)),
  };
}

/** Runs a command line on the Node host with its files in `dir`; what it printed comes back as text. */
export async function runNode(dir: string, argv: readonly string[]) {
  const { host, stdout, stderr } = memoryHost({ files: filesIn(dir) });
  const code = await runCli(argv, host);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A small mask with a few blobs, rows of odd length and a run that wraps from one column to the next. */
export function sampleMask(): Mask {
  const mask = new Mask(37, 23);
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      const blob = (x - 10) ** 2 + (y - 8) ** 2 < 30 || (x > 22 && x < 33 && y > 12 && y < 20);
      mask.data[y * mask.width + x] = blob || (x === 5 && y > 17) || (x === 6 && y < 3) ? 1 : 0;
    }
  }
  return mask;
}

/** A 128 x 96 slide in the tiled BigTIFF layout: pale background and one pink disc of "tissue". */
export async function writeTinySlide(path: string): Promise<void> {
  const side = 64;
  await writeTiledBigTiff(path, {
    width: 128,
    height: 96,
    tileSize: side,
    tile(tx, ty) {
      const rgb = new Uint8Array(side * side * 3);
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const inside = (tx * side + x - 60) ** 2 + (ty * side + y - 50) ** 2 < 900;
          rgb.set(inside ? [200, 120, 170] : [240, 235, 238], (y * side + x) * 3);
        }
      }
      return rgb;
    },
  });
}

/** An untrained UNet on EfficientNet-B0 saved as `nephron train` saves models, small enough for a software GPU. */
export async function writeTinyModel(path: string): Promise<void> {
  const { host } = memoryHost();
  await openEngine(host);
  const model = createSegmentationModel('efficientnet-b0', 2);
  const metadata = { encoder: 'efficientnet-b0', classes: '2', downscale: '1', tile: '64', threshold: '0.5' };
  await writeFile(path, await saveSafetensors(model.stateDict(), { metadata }));
}

/** Tiny settings both hosts train with (`--config` JSON): EfficientNet-B0, two 64² tiles a step, two steps. */
export const TINY_TRAIN_CONFIG = {
  encoder: 'efficientnet-b0',
  epochs: 1,
  stepsPerEpoch: 2,
  batchSize: 2,
  tile: 64,
  downscale: 2,
  randomTiles: 2,
  folds: 2,
};

/** A demo at the same tiny scale, on 128×96 synthetic slides. */
export const TINY_DEMO_CONFIG = { slideSize: '128x96', tile: 64, epochs: 1, stepsPerEpoch: 2, batchSize: 2 };
