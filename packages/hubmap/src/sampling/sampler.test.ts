import { describe, expect, it } from 'vitest';
import { Random } from '../random.js';
import { REGION, type RegionMap, regionCdf, searchCdf, tissueBySaturation } from './region-map.js';
import { TileSampler } from './sampler.js';

function stripes(): RegionMap {
  // 10x4 map: columns 0-4 cortex, 5-7 medulla, 8-9 other; one glomerulus pixel in the cortex.
  const labels = new Uint8Array(40);
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 10; x++)
      labels[y * 10 + x] = x < 5 ? REGION.cortex : x < 8 ? REGION.medulla : REGION.other;
  }
  labels[0] = REGION.glomerulus;
  return { width: 10, height: 4, scale: 8, labels };
}

describe('region probability map', () => {
  it('gives cortex 0.7, medulla 0.2, other 0.1 and glomeruli nothing', () => {
    const map = stripes();
    const cdf = regionCdf(map);
    const mass = [0, 0, 0, 0];
    let prev = 0;
    cdf.forEach((c, i) => {
      mass[map.labels[i]] += c - prev;
      prev = c;
    });
    expect(mass[REGION.cortex]).toBeCloseTo(0.7, 12);
    expect(mass[REGION.medulla]).toBeCloseTo(0.2, 12);
    expect(mass[REGION.other]).toBeCloseTo(0.1, 12);
    expect(mass[REGION.glomerulus]).toBe(0);
    expect(cdf[cdf.length - 1]).toBeCloseTo(1, 12);
    expect(searchCdf(cdf, 0)).toBe(1); // pixel 0 is a glomerulus: zero mass, never chosen
  });
  it('renormalises when a region is absent', () => {
    const labels = new Uint8Array(8).fill(REGION.other);
    labels[0] = REGION.cortex;
    const cdf = regionCdf({ width: 8, height: 1, scale: 1, labels });
    expect(cdf[0]).toBeCloseTo(0.7 / 0.8, 12);
  });
  it('finds tissue by saturation', () => {
    const rgb = new Uint8Array([240, 240, 240, 200, 120, 180, 10, 5, 12]);
    expect(Array.from(tissueBySaturation(rgb, 3, 1))).toEqual([0, 1, 0]);
  });
});

describe('tile sampler', () => {
  const image = {
    id: 'a',
    width: 80,
    height: 32,
    glomeruli: [{ x0: 2, y0: 3, x1: 7, y1: 6 }],
    regions: stripes(),
  };
  it('puts one tile inside every glomerulus box and draws random tiles by region', () => {
    const sampler = new TileSampler([image], 2000);
    const centres = sampler.epoch(new Random(1));
    const glom = centres.filter((c) => c.kind === 'glomerulus');
    expect(glom).toHaveLength(1);
    expect(glom[0].x).toBeGreaterThanOrEqual(2);
    expect(glom[0].x).toBeLessThan(7);
    const random = centres.filter((c) => c.kind === 'random');
    expect(random).toHaveLength(2000);
    const inCortex = random.filter((c) => c.x < 40).length / random.length;
    const inMedulla = random.filter((c) => c.x >= 40 && c.x < 64).length / random.length;
    expect(inCortex).toBeGreaterThan(0.65);
    expect(inCortex).toBeLessThan(0.75);
    expect(inMedulla).toBeGreaterThan(0.16);
    expect(inMedulla).toBeLessThan(0.24);
    // The glomerulus map pixel (x 0-8, y 0-8) is never a random centre.
    expect(random.some((c) => c.x < 8 && c.y < 8)).toBe(false);
  });
  it('is reproducible from a seed', () => {
    const sampler = new TileSampler([image], 50);
    expect(sampler.epoch(new Random(7))).toEqual(sampler.epoch(new Random(7)));
    expect(sampler.epoch(new Random(7))).not.toEqual(sampler.epoch(new Random(8)));
  });
});
