/** Where a generator stands: enough to resume a training run with exactly the same random numbers. */
export interface GeneratorState {
  seed: number;
  /** Philox blocks (of four 32-bit words) already handed out. */
  offset: number;
}

/** The seed a fresh generator starts from, so that unseeded runs are reproducible too. */
export const DEFAULT_SEED = 0x5eed;

const TWO_32 = 2 ** 32;

function checkSeed(seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`random seed must be an integer in [0, 2^53), got ${seed}`);
  }
  return seed;
}

/**
 * A source of random numbers: a seed (the Philox key) and an offset (the next unused Philox block). Every random
 * op takes the blocks it needs and advances the offset, so a sequence of ops is reproducible from (seed, offset)
 * alone, on any device, regardless of how the work is split into dispatches.
 */
export class Generator {
  private seedValue: number;
  private next = 0;

  constructor(seed: number = DEFAULT_SEED) {
    this.seedValue = checkSeed(seed);
  }

  /** Reseeds and rewinds, like `torch.Generator.manual_seed`. */
  manualSeed(seed: number): this {
    this.seedValue = checkSeed(seed);
    this.next = 0;
    return this;
  }

  initialSeed(): number {
    return this.seedValue;
  }

  get offset(): number {
    return this.next;
  }

  getState(): GeneratorState {
    return { seed: this.seedValue, offset: this.next };
  }

  setState(state: GeneratorState): this {
    if (!Number.isSafeInteger(state?.offset) || state.offset < 0) {
      throw new RangeError(`generator state offset must be a non-negative integer, got ${state?.offset}`);
    }
    this.seedValue = checkSeed(state.seed);
    this.next = state.offset;
    return this;
  }

  /** A generator at the same state that advances on its own. */
  clone(): Generator {
    return new Generator().setState(this.getState());
  }

  /** The Philox key: the seed's low and high 32 bits. */
  key(): [number, number] {
    return [this.seedValue % TWO_32, Math.floor(this.seedValue / TWO_32)];
  }

  /** Reserves `blocks` consecutive Philox blocks and returns the first one's index. */
  take(blocks: number): number {
    const first = this.next;
    this.next += blocks;
    if (!Number.isSafeInteger(this.next)) throw new RangeError('random generator offset overflowed 2^53');
    return first;
  }
}

let defaultGen = new Generator();

/** The generator random ops use when none is given. */
export function defaultGenerator(): Generator {
  return defaultGen;
}

/** Seeds the default generator, like `torch.manual_seed`; returns it. */
export function manualSeed(seed: number): Generator {
  return defaultGen.manualSeed(seed);
}

/** Replaces the default generator (e.g. with one restored from a checkpoint). */
export function setDefaultGenerator(generator: Generator): void {
  defaultGen = generator;
}

/** Splits a block index into the low and high 32-bit words of a Philox counter. */
export function counterWords(block: number): [number, number] {
  return [block % TWO_32, Math.floor(block / TWO_32)];
}
