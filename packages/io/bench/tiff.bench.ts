/**
 * TIFF and tile-cache benchmarks (not tests): run with
 *   npx -y pnpm@10.34.8 --filter @nephron/io run bench [memory|tiles|pool]...
 * memory: writes a synthetic 40000x30000 RGB tiled BigTIFF to a temp dir, reads every
 *   1024² window, reports peak RSS (target < 1 GB).
 * tiles: random 512² tiles per second from the TIFFs of ../shared/data/hubmap-vanderbilt
 *   directly versus from a Zarr tile cache of each.
 * pool: decoding with and without the worker pool.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertToTileCache } from '../src/cache/tile-cache.js';
import { syntheticPixel, syntheticSlideSpec, writeTiledBigTiff } from '../src/tiff/bigtiff-writer.js';
import { hasHubmapData, hubmapData } from '../src/tiff/corpus.js';
import { openTiffFile } from '../src/tiff/open-file.js';
import { createDecoderPool } from '../src/tiff/pool.js';
import { readRegion } from '../src/tiff/region.js';

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function memory() {
  const dir = mkdtempSync(join(tmpdir(), 'nephron-bench-'));
  try {
    const path = join(dir, 'synthetic-40000x30000.tiff');
    const width = 40_000;
    const height = 30_000;
    let t = performance.now();
    await writeTiledBigTiff(path, syntheticSlideSpec(width, height, 512));
    console.log(
      `wrote ${width}x${height} BigTIFF: ${mb(statSync(path).size)} in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const file = await openTiffFile(path);
    t = performance.now();
    let windows = 0;
    let peak = process.memoryUsage().rss;
    for (let y = 0; y < height; y += 1024) {
      for (let x = 0; x < width; x += 1024) {
        const region = await readRegion(file, { x, y, width: 1024, height: 1024 });
        const [r, g, b] = syntheticPixel(x, y, 512);
        if (region.data[0] !== r || region.data[1] !== g || region.data[2] !== b)
          throw new Error(`wrong pixel at ${x},${y}`);
        windows++;
        peak = Math.max(peak, process.memoryUsage().rss);
      }
    }
    await file.close();
    const seconds = (performance.now() - t) / 1000;
    const maxRss = process.resourceUsage().maxRSS * 1024;
    console.log(
      `read ${windows} windows of 1024² in ${seconds.toFixed(1)} s (${(windows / seconds).toFixed(1)}/s); ` +
        `peak RSS sampled ${mb(peak)}, process max RSS ${mb(maxRss)} (limit 1024 MB): ${maxRss < 2 ** 30 ? 'OK' : 'OVER'}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function slides(): string[] {
  if (!hasHubmapData) throw new Error(`${hubmapData} is missing`);
  return ['train', 'test'].flatMap((split) =>
    readdirSync(join(hubmapData, split))
      .filter((n) => n.endsWith('.tiff'))
      .map((n) => join(hubmapData, split, n)),
  );
}

async function tiles() {
  const dir = mkdtempSync(join(tmpdir(), 'nephron-bench-'));
  const scale = 0.5;
  const count = 100;
  try {
    console.log(`random 512² tiles at scale ${scale}, ${count} per slide`);
    console.log('| slide | TIFF tiles/s | cache tiles/s | cache build s |');
    console.log('| --- | --- | --- | --- |');
    for (const path of slides()) {
      const file = await openTiffFile(path);
      const w = Math.round(file.levels[0].width * scale);
      const h = Math.round(file.levels[0].height * scale);
      const rand = random(7);
      const spots = Array.from({ length: count }, () => [
        Math.floor(rand() * (w - 512)),
        Math.floor(rand() * (h - 512)),
      ]);
      let t = performance.now();
      for (const [x, y] of spots)
        await readRegion(file, { x: x / scale, y: y / scale, width: 1024, height: 1024, scale });
      const direct = count / ((performance.now() - t) / 1000);
      t = performance.now();
      const cache = await convertToTileCache(file, join(dir, 'c.zarr'), { scale });
      const build = (performance.now() - t) / 1000;
      t = performance.now();
      for (const [x, y] of spots) await cache.readTile(x, y, 512, 512);
      const cached = count / ((performance.now() - t) / 1000);
      console.log(
        `| ${path.split('/').pop()} | ${direct.toFixed(1)} | ${cached.toFixed(1)} | ${build.toFixed(1)} |`,
      );
      await file.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pool() {
  const paths = slides();
  const run = async (label: string, p?: ReturnType<typeof createDecoderPool>) => {
    const t = performance.now();
    let pixels = 0;
    for (const path of paths) {
      const file = await openTiffFile(path);
      const main = file.levels[0];
      const region = await readRegion(file, { x: 0, y: 0, width: main.width, height: main.height, pool: p });
      pixels += region.width * region.height;
      await file.close();
    }
    const seconds = (performance.now() - t) / 1000;
    console.log(
      `${label}: ${(pixels / 1e6 / seconds).toFixed(1)} Mpx/s (${seconds.toFixed(1)} s for every slide at full resolution)`,
    );
  };
  await run('main thread');
  for (const size of [1, 2]) {
    const p = createDecoderPool(size);
    await run(`pool of ${size} worker${size > 1 ? 's' : ''}`, p);
    await p.destroy();
  }
}

const parts = process.argv.slice(2);
const chosen = parts.length ? parts : ['pool', 'tiles', 'memory'];
for (const part of chosen) {
  console.log(`\n## ${part}`);
  if (part === 'memory') await memory();
  else if (part === 'tiles') await tiles();
  else if (part === 'pool') await pool();
  else throw new Error(`unknown benchmark ${part} (memory, tiles, pool)`);
}
