import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromHalfBits, toHalfBits } from '../../dtype.js';
import { init } from '../../engine/engine.js';
import { assertClose } from '../../testing/index.js';
import { tensor } from '../creation.js';
import { limitBindingBytes } from '../elementwise/binding-range.js';
import { Generator, manualSeed } from './generator.js';
import { mulHi, philox4x32 } from './philox.js';
import { cpuBernoulli, cpuRand, cpuRandint, cpuRandn, cpuRandomBits } from './random.cpu.js';
import { bernoulli, bernoulliScaled, rand, randint, randn, randomBits } from './random.js';
import '../../index.js';

beforeAll(async () => {
  await init();
});

afterEach(() => limitBindingBytes(null));

const hex = (words: readonly number[]) => words.map((w) => w.toString(16).padStart(8, '0')).join(' ');

describe('Philox 4x32-10 on the CPU', () => {
  it('matches the known-answer vectors of the Random123 reference', () => {
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const ones = 0xffffffff;
    expect(hex(philox4x32([ones, ones, ones, ones], [ones, ones]))).toBe(
      '408f276d 41c83b0e a20bc7c6 6d5451fd',
    );
    expect(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).toBe(
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });

  it('mulHi is the high word of the exact 64-bit product', () => {
    const words = [0, 1, 0xffff, 0x10000, 0xffffffff, 0xd2511f53, 0xcd9e8d57, 0x80000000, 123456789];
    for (const a of words) {
      for (const b of words) {
        expect(mulHi(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
      }
    }
  });
});

describe('GPU random numbers equal the CPU reference', () => {
  it('raw Philox words, bit for bit, with a 64-bit seed and a counter that carries past 2^32', async () => {
    const g = new Generator(2 ** 40 + 12345).setState({ seed: 2 ** 40 + 12345, offset: 2 ** 32 - 5 });
    const state = g.getState();
    const bits = randomBits([7, 11], { generator: g });
    expect(bits.dtype).toBe('uint32');
    expect(Array.from(await bits.toArray())).toEqual(Array.from(cpuRandomBits(state, 77)));
    expect(g.offset).toBe(state.offset + Math.ceil(77 / 4));
    bits.dispose();
  });

  it('rand exactly, randn to float32 rounding of log/sin/cos', async () => {
    const g = new Generator(7);
    const s1 = g.getState();
    const u = rand([5, 13], { generator: g });
    const s2 = g.getState();
    const z = randn([3, 3, 7], { generator: g });
    expect(Array.from(await u.toArray())).toEqual(Array.from(cpuRand(s1, 65)));
    assertClose(await z.toArray(), cpuRandn(s2, 63), { rtol: 1e-5, atol: 2e-6 }, 'randn');
    u.dispose();
    z.dispose();
  });

  it('randint and bernoulli exactly', async () => {
    const g = new Generator(99);
    const s1 = g.getState();
    const k = randint(-3, 5, [101], { generator: g });
    const probs = tensor(
      Float32Array.from({ length: 45 }, (_, i) => (i % 9) / 8),
      [5, 9],
    );
    const s2 = g.getState();
    const b = bernoulli(probs, { generator: g });
    const s3 = g.getState();
    const m = bernoulliScaled([3, 17], 0.3, 2.5, { generator: g });
    expect(k.dtype).toBe('int32');
    expect(Array.from(await k.toArray())).toEqual(Array.from(cpuRandint(s1, 101, -3, 5)));
    expect(Array.from(await b.toArray())).toEqual(Array.from(cpuBernoulli(s2, await probs.toArray())));
    expect(Array.from(await m.toArray())).toEqual(Array.from(cpuBernoulli(s3, new Array(51).fill(0.3), 2.5)));
    for (const t of [k, probs, b, m]) t.dispose();
  });

  it('gives the same numbers when the output is split over several bindings', async () => {
    const g = new Generator(3);
    const state = g.getState();
    limitBindingBytes(2048);
    const u = rand([4001], { generator: g });
    const h = rand([1999], { generator: g, dtype: 'float16' });
    limitBindingBytes(null);
    expect(Array.from(await u.toArray())).toEqual(Array.from(cpuRand(state, 4001)));
    // float16 keeps fewer bits; compare after rounding the reference the same way.
    const after = { seed: 3, offset: state.offset + 1001 };
    const expected = Array.from(cpuRand(after, 1999), (v) => fromHalfBits(toHalfBits(v)));
    expect(Array.from(await h.toArray())).toEqual(expected);
    u.dispose();
    h.dispose();
  });
});

describe('generator state', () => {
  it('the same seed repeats, the next call differs, and a saved state resumes exactly', async () => {
    manualSeed(1234);
    const a = await rand([10]).toArray();
    const saved = manualSeed(1234).getState();
    const b = await rand([10]).toArray();
    const c = await rand([10]).toArray();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    // Resume from a checkpointed state (as JSON, the way training saves it).
    const g = new Generator(1).setState(JSON.parse(JSON.stringify(saved)));
    expect(Array.from(await rand([10], { generator: g }).toArray())).toEqual(Array.from(a));
    expect(Array.from(await rand([10], { generator: g }).toArray())).toEqual(Array.from(c));
    expect(g.offset).toBe(6);
  });

  it('rejects seeds and states it cannot reproduce', () => {
    expect(() => manualSeed(-1)).toThrow(/seed/);
    expect(() => new Generator(1.5)).toThrow(/seed/);
    expect(() => new Generator().setState({ seed: 1, offset: -2 })).toThrow(/offset/);
    expect(() => randint(5, 5, [3])).toThrow(/randint/);
    expect(() => bernoulli(0.5)).toThrow(/shape/);
    expect(() => rand([2], { dtype: 'int32' })).toThrow(/float/);
  });
});

describe('statistics of 1e5 samples', () => {
  const N = 100_000;
  const moments = (v: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i];
    const mean = s / v.length;
    let q = 0;
    for (let i = 0; i < v.length; i++) q += (v[i] - mean) ** 2;
    return { mean, variance: q / (v.length - 1) };
  };

  // Bounds are about five standard errors; the samples are seeded, so the test is deterministic.
  it('rand is uniform on [0, 1)', async () => {
    const u = await rand([N], { generator: new Generator(11) }).toArray();
    const { mean, variance } = moments(u);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const deciles = new Array(10).fill(0);
    for (const v of u) deciles[Math.floor(v * 10)]++;
    for (const count of deciles) expect(Math.abs(count - N / 10)).toBeLessThan(500);
  });

  it('randn is standard normal', async () => {
    const z = await randn([N], { generator: new Generator(12) }).toArray();
    const { mean, variance } = moments(z);
    expect(Math.abs(mean)).toBeLessThan(0.016);
    expect(Math.abs(variance - 1)).toBeLessThan(0.025);
    let within1 = 0;
    for (const v of z) if (Math.abs(v) < 1) within1++;
    expect(Math.abs(within1 / N - 0.6827)).toBeLessThan(0.008);
  });

  it('randint covers [low, high) evenly and bernoulli hits p', async () => {
    const k = await randint(-2, 5, [N], { generator: new Generator(13) }).toArray();
    const counts = new Map<number, number>();
    for (const v of k) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3, 4]);
    for (const c of counts.values()) expect(Math.abs(c - N / 7)).toBeLessThan(600);
    const b = await bernoulli(0.3, { shape: [N], generator: new Generator(14) }).toArray();
    expect(Math.abs(moments(b).mean - 0.3)).toBeLessThan(0.008);
  });
});
