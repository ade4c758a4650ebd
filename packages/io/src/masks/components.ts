import type { BinaryMask } from './binary-mask.js';

/** One 4-connected component of a mask. */
export interface Component {
  /** 1-based label, in the order components are first met scanning rows top to bottom. */
  label: number;
  /** Number of pixels. */
  area: number;
  /** Bounding box in mask pixels: x, y of the top-left pixel, width and height. */
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The components of a mask with the horizontal runs that make them up. Runs are kept instead of a label
 * image, so labelling a slide-sized mask costs memory in proportion to its runs.
 */
export interface Components {
  width: number;
  height: number;
  components: Component[];
  /** Run r covers row runY[r], pixels runX0[r] <= x < runX1[r], and belongs to component runLabel[r]. */
  runY: Int32Array;
  runX0: Int32Array;
  runX1: Int32Array;
  runLabel: Int32Array;
  runCount: number;
}

class GrowableInt32 {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
}

/**
 * Labels the 4-connected components of a mask (pixels sharing an edge belong together; diagonal
 * neighbours do not) by run-based union-find: each row is cut into runs, and a run is joined with every
 * run of the row above whose columns overlap it. Then it is one pass over the runs for areas and boxes.
 */
export function connectedComponents(mask: BinaryMask): Components {
  const { width, height } = mask;
  const ys = new GrowableInt32();
  const x0s = new GrowableInt32();
  const x1s = new GrowableInt32();
  let parent = new Int32Array(1024);
  const find = (a: number): number => {
    let root = a;
    while (parent[root] !== root) root = parent[root];
    // Path compression keeps later finds short.
    while (parent[a] !== root) {
      const next = parent[a];
      parent[a] = root;
      a = next;
    }
    return root;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    // The smaller index becomes the root, so a component's root is its first run in scan order.
    if (ra < rb) parent[rb] = ra;
    else if (rb < ra) parent[ra] = rb;
  };

  const row = new Int32Array(width + 1);
  let prevFirst = 0;
  let prevCount = 0;
  for (let y = 0; y < height; y++) {
    const n = mask.rowRuns(y, row);
    const first = ys.length;
    for (let r = 0; r < n; r++) {
      ys.push(y);
      x0s.push(row[2 * r]);
      x1s.push(row[2 * r + 1]);
    }
    if (parent.length < ys.length) {
      const grown = new Int32Array(Math.max(ys.length, parent.length * 2));
      grown.set(parent);
      parent = grown;
    }
    for (let r = first; r < first + n; r++) parent[r] = r;
    // Two-pointer sweep over this row's runs and the previous row's, both sorted by x.
    let p = prevFirst;
    const pEnd = prevFirst + prevCount;
    for (let r = first; r < first + n && p < pEnd; ) {
      if (x0s.data[p] < x1s.data[r] && x0s.data[r] < x1s.data[p]) union(r, p);
      if (x1s.data[p] < x1s.data[r]) p++;
      else r++;
    }
    prevFirst = first;
    prevCount = n;
  }

  const runCount = ys.length;
  const runLabel = new Int32Array(runCount);
  const components: Component[] = [];
  const right: number[] = [];
  const bottom: number[] = [];
  for (let r = 0; r < runCount; r++) {
    const root = find(r);
    let label: number;
    if (root === r) {
      label = components.length + 1;
      components.push({ label, area: 0, x: x0s.data[r], y: ys.data[r], width: 0, height: 0 });
      right.push(0);
      bottom.push(0);
    } else {
      label = runLabel[root];
    }
    runLabel[r] = label;
    const c = components[label - 1];
    c.area += x1s.data[r] - x0s.data[r];
    if (x0s.data[r] < c.x) c.x = x0s.data[r];
    if (x1s.data[r] > right[label - 1]) right[label - 1] = x1s.data[r];
    bottom[label - 1] = ys.data[r] + 1;
  }
  components.forEach((c, i) => {
    c.width = right[i] - c.x;
    c.height = bottom[i] - c.y;
  });
  return {
    width,
    height,
    components,
    runY: ys.data.subarray(0, runCount),
    runX0: x0s.data.subarray(0, runCount),
    runX1: x1s.data.subarray(0, runCount),
    runLabel,
    runCount,
  };
}

/** A label image (0 = background, else the component label) for masks small enough to hold one. */
export function labelImage(result: Components): Int32Array {
  const labels = new Int32Array(result.width * result.height);
  for (let r = 0; r < result.runCount; r++) {
    const base = result.runY[r] * result.width;
    labels.fill(result.runLabel[r], base + result.runX0[r], base + result.runX1[r]);
  }
  return labels;
}
