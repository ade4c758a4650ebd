/** A seeded generator (mulberry32): the synthetic dataset is the same on every machine for a given seed. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  int(lo: number, hiExclusive: number): number {
    return Math.floor(this.uniform(lo, hiExclusive));
  }

  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** Smooth value noise on a lattice of `cell` pixels, in [0, 1): the large-scale texture of stained tissue. */
export class ValueNoise {
  private lattice: Float32Array;
  private cols: number;

  constructor(
    width: number,
    height: number,
    private cell: number,
    random: Random,
  ) {
    this.cols = Math.ceil(width / cell) + 2;
    const rows = Math.ceil(height / cell) + 2;
    this.lattice = Float32Array.from({ length: this.cols * rows }, () => random.next());
  }

  at(x: number, y: number): number {
    const gx = x / this.cell;
    const gy = y / this.cell;
    const x0 = Math.floor(gx);
    const y0 = Math.floor(gy);
    const fx = smooth(gx - x0);
    const fy = smooth(gy - y0);
    const v = (cx: number, cy: number) => this.lattice[cy * this.cols + cx];
    const top = v(x0, y0) * (1 - fx) + v(x0 + 1, y0) * fx;
    const bottom = v(x0, y0 + 1) * (1 - fx) + v(x0 + 1, y0 + 1) * fx;
    return top * (1 - fy) + bottom * fy;
  }
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}
