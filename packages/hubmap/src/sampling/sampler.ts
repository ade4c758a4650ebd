import type { Random } from '../random.js';
import { type RegionMap, regionCdf, searchCdf } from './region-map.js';

/** A glomerulus's bounding box in image pixels (inclusive-exclusive). */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A tile to cut: its centre in image pixels and where it came from. */
export interface TileCentre {
  image: string;
  x: number;
  y: number;
  kind: 'glomerulus' | 'random';
}

export interface ImageSamplingInfo {
  id: string;
  width: number;
  height: number;
  glomeruli: readonly Box[];
  regions: RegionMap;
}

/**
 * One epoch of tile centres, deepflash2-style: a tile centred inside every glomerulus's bounding box (uniformly), plus
 * `randomPerImage` tiles per image drawn from the region probability map. The CDF per image is built once.
 */
export class TileSampler {
  private cdfs = new Map<string, Float64Array>();

  constructor(
    private images: readonly ImageSamplingInfo[],
    private randomPerImage = 100,
  ) {
    for (const image of images) this.cdfs.set(image.id, regionCdf(image.regions));
  }

  epoch(random: Random): TileCentre[] {
    const centres: TileCentre[] = [];
    for (const image of this.images) {
      for (const box of image.glomeruli) {
        centres.push({
          image: image.id,
          x: random.uniform(box.x0, box.x1),
          y: random.uniform(box.y0, box.y1),
          kind: 'glomerulus',
        });
      }
      const cdf = this.cdfs.get(image.id)!;
      const { regions } = image;
      for (let k = 0; k < this.randomPerImage; k++) {
        const cell = searchCdf(cdf, random.next());
        const mx = cell % regions.width;
        const my = Math.floor(cell / regions.width);
        // A uniform point inside the chosen map pixel, in image coordinates.
        centres.push({
          image: image.id,
          x: Math.min(image.width - 1, (mx + random.next()) * regions.scale),
          y: Math.min(image.height - 1, (my + random.next()) * regions.scale),
          kind: 'random',
        });
      }
    }
    shuffle(centres, random);
    return centres;
  }
}

export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
