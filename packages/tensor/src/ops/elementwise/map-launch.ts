import { getEngine } from '../../engine/engine.js';
import type { Kernel, UniformValue } from '../../engine/kernel.js';
import { numel } from '../../shape.js';
import {
  bindElements,
  bindingBudget,
  boundBytes,
  fitsWhole,
  type RangeBinding,
  viewSpan,
} from './binding-range.js';
import { MAP_WORKGROUP, MAX_RANK } from './map-kernel.js';

/** One tensor as an elementwise kernel sees it: strides already broadcast to the output's shape. */
export interface MapView {
  buffer: GPUBuffer;
  bytesPerElement: number;
  offset: number;
  strides: readonly number[];
  /** Names the tensor in errors (called only then). */
  describe: () => string;
}

export interface MapLaunch {
  name: string;
  kernel: Kernel;
  /** The kernel indexes every operand by the flat output index (all contiguous, same shape). */
  contiguous: boolean;
  /** (Contiguous only.) The kernel works in quads of 4 elements: counts are in quads, pieces start on quads. */
  quads: boolean;
  /** Operand 0 is read through the output binding. */
  inPlace: boolean;
  shape: readonly number[];
  out: MapView;
  operands: readonly MapView[];
  scalars: readonly UniformValue[];
}

/** More dispatches than this for one op means its views scatter over the buffer; better to fail clearly. */
const MAX_CHUNKS = 1 << 16;

function padFront(values: readonly number[], fill: number): number[] {
  return [...new Array<number>(MAX_RANK - values.length).fill(fill), ...values];
}

/** A box of the output (its shape) and where each view starts in it: out first, then the operands. */
interface Chunk {
  shape: number[];
  offsets: number[];
}

/**
 * Dispatches an elementwise kernel. Usually one dispatch binding whole buffers; when a buffer is larger than
 * one binding may be, the output is cut into boxes whose every operand fits in a binding window, one dispatch
 * each. A contiguous kernel is cut as a flat range.
 */
export function launchMap(launch: MapLaunch): void {
  const engine = getEngine();
  const views = [launch.out, ...launch.operands];
  const n = numel(launch.shape);
  const whole = views.every((v) => fitsWhole(engine, v.buffer));
  // The contiguous kernel reads every view at (offset + flat index): a 1-D box with unit strides.
  const shape = launch.contiguous ? [n] : [...launch.shape];
  const strides = views.map((v) => (launch.contiguous ? [1] : [...v.strides]));
  // Binding groups: the output binding also serves operand 0 of an in-place kernel.
  const groups = launch.inPlace
    ? [[0, 1], ...launch.operands.slice(1).map((_, k) => [k + 2])]
    : views.map((_, k) => [k]);
  // Kernels bind the operands first and the output last.
  const order = [...groups.keys()].slice(1).concat(0);

  const span = (chunk: Chunk, k: number) => viewSpan(chunk.shape, strides[k], chunk.offsets[k]);
  const groupSpan = (chunk: Chunk, group: number[]): [number, number] => {
    const spans = group.map((k) => span(chunk, k));
    return [Math.min(...spans.map((s) => s[0])), Math.max(...spans.map((s) => s[1]))];
  };

  /** `bound`: a window per binding group, or null to bind whole buffers. */
  const dispatch = (chunk: Chunk, bound: RangeBinding[] | null) => {
    const bases = views.map(() => 0);
    if (bound) {
      groups.forEach((group, g) => {
        for (const k of group) bases[k] = bound[g].base;
      });
    }
    const rel = chunk.offsets.map((o, k) => o - bases[k]);
    const items = launch.quads ? numel(chunk.shape) / 4 : numel(chunk.shape);
    const uniforms: UniformValue[] = [items, rel[0]];
    if (launch.contiguous) {
      uniforms.push(...rel.slice(1));
    } else {
      uniforms.push(...padFront(chunk.shape, 1), ...padFront(strides[0], 0));
      for (let k = 1; k < views.length; k++) uniforms.push(rel[k], ...padFront(strides[k], 0));
    }
    uniforms.push(...launch.scalars);
    const buffers = order.map((g) => (bound ? bound[g].binding : views[groups[g][0]].buffer));
    engine.dispatch(launch.kernel, buffers, uniforms, engine.grid(items, MAP_WORKGROUP));
  };

  const first: Chunk = { shape, offsets: views.map((v) => v.offset) };
  if (whole) {
    dispatch(first, null);
    return;
  }

  // Cut until every binding window fits; collect first so that an impossible split records nothing.
  const budget = bindingBudget(engine);
  const chunks: Chunk[] = [];
  const cut = (chunk: Chunk) => {
    let worst = 0;
    let worstView = 0;
    for (const group of groups) {
      const [lo, hi] = groupSpan(chunk, group);
      const bytes = boundBytes(engine, views[group[0]].bytesPerElement, lo, hi);
      if (bytes > worst) [worst, worstView] = [bytes, group[0]];
    }
    if (worst <= budget) {
      chunks.push(chunk);
      if (chunks.length > MAX_CHUNKS) throw tooScattered(launch, views[worstView], budget);
      return;
    }
    const d = chunk.shape.findIndex((s) => s > 1);
    if (d < 0) throw tooScattered(launch, views[worstView], budget);
    const size = chunk.shape[d];
    const pieces = Math.min(size, Math.max(2, Math.ceil(worst / (budget / 2))));
    // Quads stay whole: pieces of a quad kernel's flat range start on multiples of 4.
    const step = launch.quads ? Math.ceil(size / pieces / 4) * 4 : Math.ceil(size / pieces);
    for (let start = 0; start < size; start += step) {
      const part = [...chunk.shape];
      part[d] = Math.min(step, size - start);
      cut({ shape: part, offsets: chunk.offsets.map((o, k) => o + start * strides[k][d]) });
    }
  };
  cut(first);
  for (const chunk of chunks) {
    const bound = groups.map((group) => {
      const v = views[group[0]];
      const [lo, hi] = groupSpan(chunk, group);
      return bindElements(engine, v.buffer, v.bytesPerElement, lo, hi);
    });
    dispatch(chunk, bound);
  }
}

function tooScattered(launch: MapLaunch, view: MapView, budget: number): Error {
  return new RangeError(
    `${launch.name}: ${view.describe()} (a ${view.buffer.size}-byte buffer) cannot be split into bindings of at most ` +
      `${budget} bytes (this device's maxStorageBufferBindingSize): its strides spread each piece of the ` +
      'output over the whole buffer; make it contiguous in smaller parts first',
  );
}
