import type { GeneratorState } from './generator.js';
import { mulHi, philox4x32 } from './philox.js';

/**
 * The CPU side of every random op: the same Philox blocks and the same transforms as the WGSL kernels, so
 * tests can demand the GPU's bits exactly (and its normals to float32 rounding of log/sin/cos).
 */

const TWO_32 = 2 ** 32;

/** The Philox words of elements 0..n-1 drawn from `state`: element e is word e % 4 of block offset + e / 4. */
export function cpuRandomBits(state: GeneratorState, n: number): Uint32Array {
  const key: [number, number] = [state.seed % TWO_32, Math.floor(state.seed / TWO_32)];
  const out = new Uint32Array(n);
  for (let b = 0; 4 * b < n; b++) {
    const block = state.offset + b;
    const words = philox4x32([block % TWO_32, Math.floor(block / TWO_32), 0, 0], key);
    for (let j = 0; j < 4 && 4 * b + j < n; j++) out[4 * b + j] = words[j];
  }
  return out;
}

/** A word's top 24 bits as a float in [0, 1), exactly representable in float32. */
export function unit(word: number): number {
  return (word >>> 8) * 2 ** -24;
}

export function cpuRand(state: GeneratorState, n: number): Float64Array {
  return Float64Array.from(cpuRandomBits(state, n), unit);
}

/** Box–Muller on the pairs (word 0, word 1) and (word 2, word 3) of every block, in float64. */
export function cpuRandn(state: GeneratorState, n: number): Float64Array {
  const bits = cpuRandomBits(state, Math.ceil(n / 4) * 4);
  const out = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    const pair = e - (e % 2);
    const r = Math.sqrt(-2 * Math.log(((bits[pair] >>> 8) + 1) * 2 ** -24));
    const theta = 2 * Math.PI * unit(bits[pair + 1]);
    out[e] = e % 2 === 0 ? r * Math.cos(theta) : r * Math.sin(theta);
  }
  return out;
}

export function cpuRandint(state: GeneratorState, n: number, low: number, high: number): Int32Array {
  return Int32Array.from(cpuRandomBits(state, n), (w) => (low + mulHi(w, high - low)) | 0);
}

/** `value` where the sample falls below p (compared in float32, as the kernel does), else 0. */
export function cpuBernoulli(state: GeneratorState, probs: ArrayLike<number>, value = 1): Float64Array {
  const bits = cpuRandomBits(state, probs.length);
  return Float64Array.from(bits, (w, e) => (unit(w) < Math.fround(probs[e]) ? value : 0));
}
