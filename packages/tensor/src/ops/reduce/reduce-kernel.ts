import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '../../engine/kernel.js';

/**
 * WGSL for every reduction. A reduction folds elements into a *state* with an associative `combine`:
 *
 * - `sum`: one accumulator (or a vec2 of two, for fused pairs of sums such as batch norm's backward);
 * - `max` / `min`: a value and the flat index of the element it came from (ties keep the first index);
 * - `welford`: count, mean and sum of squared deviations, combined with Chan's parallel formula, so a variance
 *   comes out of one read of the data without the cancellation of E[x²] − E[x]².
 *
 * Elements are addressed as `base(o) + offset(r)`: `o` runs over the kept dims and `r` over the reduced ones,
 * each with its own shape and strides in the uniforms, so any set of dims of any strided view reduces in place.
 * Two layouts: one thread per output (short reductions, or columns whose outputs are adjacent in memory), and
 * one workgroup per (output, split) doing a tree reduction in workgroup memory. When a reduction is split across
 * workgroups, the first pass writes packed states to a scratch buffer and a second pass combines them.
 */

export type Monoid = 'sum' | 'sum2' | 'max' | 'min' | 'welford';
export type Accumulator = 'f32' | 'i32' | 'u32';

/** Most workgroups one output's reduction is split over (the second pass folds their states). */
export const MAX_SPLITS = 256;

/** Uniform words shared by all reduction kernels. */
export const W = {
  nOut: 0,
  nRed: 1,
  splits: 2,
  chunk: 3,
  scale: 4,
  outOffset: 5, // 5, 6: offsets of up to two outputs
  // Where pass 1 puts an output's partial states: slot o · slotStride + slotBase + split. Reductions too large
  // for one binding run pass 1 once per slab of the input, each slab filling its own slots.
  slotStride: 7,
  slotBase: 8,
  /** Added to reduced indices, so a slab reports max/min positions within the whole reduced extent. */
  indexBase: 9,
  shapes: 10, // kept shape, then reduced shape, then per input: offset, kept strides, reduced strides
} as const;

export interface ReduceOutput {
  /** WGSL storage type. */
  type: string;
  /** Expression over the final state `s` (and `uf(4u)`, the scale). */
  expr: string;
}

export interface ReduceKernelSpec {
  monoid: Monoid;
  acc: Accumulator;
  /** 'tensor': read strided inputs; 'partials': combine the packed states of a previous split pass. */
  source: 'tensor' | 'partials';
  /** 'final': write outputs; 'partials': write packed states for a second pass. */
  sink: 'final' | 'partials';
  layout: 'thread' | 'group';
  /** Storage types of the inputs (source 'tensor'). */
  inputTypes: readonly string[];
  /** Per-output f32 parameters (e.g. a mean), read by `value` as p0, p1, ... */
  params: number;
  /** Value folded in, over a0.. (inputs loaded as f32 or the accumulator type) and p0..; default a0. */
  value: string;
  outputs: readonly ReduceOutput[];
  keptRank: number;
  redRank: number;
  /** Threads per workgroup, a power of two (see reduce.ts, `workgroupSize`). */
  wg: number;
  /**
   * Read the inputs as vec4s (source 'tensor'): the reduced index then counts quads of 4 adjacent elements of
   * the innermost reduced dim (its size in the uniforms is in quads and its stride is 4), and each quad is
   * folded element by element. On CPU adapters a read whose address differs per lane costs the same for one
   * float or four, so this reads 4× less often and runs a quarter of the loop iterations.
   */
  quads?: boolean;
}

/** Words of one packed state in the scratch buffer. */
export function stateWords(monoid: Monoid): number {
  return monoid === 'sum' ? 1 : monoid === 'welford' ? 3 : 2;
}

/** The thread-local fold of every monoid but welford: elements go straight into the state. */
function plainFold(valueType: string): string {
  return `alias Acc = State;
fn accIdentity() -> Acc { return identity(); }
fn fold(a: Acc, v: ${valueType}, r: u32) -> Acc { return combine(a, single(v, r)); }
fn finish(a: Acc) -> State { return a; }`;
}

function stateWgsl(monoid: Monoid, acc: Accumulator): string {
  const isNan =
    acc === 'f32'
      ? 'fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }'
      : `fn isNan(x: ${acc}) -> bool { return false; }`;
  switch (monoid) {
    case 'sum':
    case 'sum2': {
      const t = monoid === 'sum' ? acc : 'vec2<f32>';
      const words = monoid === 'sum' ? [`bitcast<u32>(s.v)`] : ['bitcast<u32>(s.v.x)', 'bitcast<u32>(s.v.y)'];
      const read =
        monoid === 'sum'
          ? `bitcast<${acc}>(scratchIn[at])`
          : 'vec2<f32>(bitcast<f32>(scratchIn[at]), bitcast<f32>(scratchIn[at + 1u]))';
      return `struct State { v: ${t} }
fn identity() -> State { return State(${t}(0)); }
fn combine(a: State, b: State) -> State { return State(a.v + b.v); }
fn single(v: ${t}, r: u32) -> State { return State(v); }
${plainFold(t)}
fn packWords(s: State) -> array<u32, ${words.length}> { return array<u32, ${words.length}>(${words.join(', ')}); }
fn unpack(at: u32) -> State { return State(${read}); }`;
    }
    case 'max':
    case 'min': {
      const cmp = monoid === 'max' ? '>' : '<';
      return `${isNan}
const NONE = 0xffffffffu;
struct State { v: ${acc}, i: u32 }
fn identity() -> State { return State(${acc}(0), NONE); }
// Is b better than a? NaN wins (as in PyTorch), then the larger (smaller) value, then the first index.
fn better(a: State, b: State) -> bool {
  if (b.i == NONE) { return false; }
  if (a.i == NONE) { return true; }
  if (isNan(b.v)) { return !isNan(a.v) || b.i < a.i; }
  if (isNan(a.v)) { return false; }
  return b.v ${cmp} a.v || (b.v == a.v && b.i < a.i);
}
fn combine(a: State, b: State) -> State { if (better(a, b)) { return b; } return a; }
fn single(v: ${acc}, r: u32) -> State { return State(v, r); }
${plainFold(acc)}
fn packWords(s: State) -> array<u32, 2> { return array<u32, 2>(bitcast<u32>(s.v), s.i); }
fn unpack(at: u32) -> State { return State(bitcast<${acc}>(scratchIn[at]), scratchIn[at + 1u]); }`;
    }
    case 'welford':
      return `struct State { n: f32, mean: f32, m2: f32 }
fn identity() -> State { return State(0.0, 0.0, 0.0); }
// Chan et al.: merging two partial (count, mean, M2) summaries is exact up to rounding, in any order.
fn combine(a: State, b: State) -> State {
  if (b.n == 0.0) { return a; }
  if (a.n == 0.0) { return b; }
  let n = a.n + b.n;
  let d = b.mean - a.mean;
  let f = b.n / n;
  return State(n, a.mean + d * f, a.m2 + b.m2 + d * d * a.n * f);
}
// Within one thread: sums of d = v − k and d² with k the thread's first value, which removes any common offset
// of the data without a division per element; the (n, mean, M2) state is formed once at the end.
struct Acc { k: f32, n: f32, s1: f32, s2: f32 }
fn accIdentity() -> Acc { return Acc(0.0, 0.0, 0.0, 0.0); }
fn fold(a: Acc, v: f32, r: u32) -> Acc {
  let k = select(a.k, v, a.n == 0.0);
  let d = v - k;
  return Acc(k, a.n + 1.0, a.s1 + d, a.s2 + d * d);
}
fn finish(a: Acc) -> State {
  if (a.n == 0.0) { return identity(); }
  let m = a.s1 / a.n;
  return State(a.n, a.k + m, max(a.s2 - a.s1 * m, 0.0));
}
fn packWords(s: State) -> array<u32, 3> {
  return array<u32, 3>(bitcast<u32>(s.n), bitcast<u32>(s.mean), bitcast<u32>(s.m2));
}
fn unpack(at: u32) -> State {
  return State(bitcast<f32>(scratchIn[at]), bitcast<f32>(scratchIn[at + 1u]), bitcast<f32>(scratchIn[at + 2u]));
}`;
  }
}

/** Unrolled decomposition of `flat` over `rank` dims starting at uniform word `shapeAt`, dotted with strides. */
function addressing(name: string, flat: string, rank: number, shapeAt: number, strideAt: number): string {
  const lines = [`  var ${name}Rem = ${flat};`];
  for (let d = rank - 1; d >= 0; d--) {
    if (d === 0) {
      lines.push(`  ${name} += ${name}Rem * ui(${strideAt + d}u);`);
    } else {
      lines.push(`  ${name} += (${name}Rem % ui(${shapeAt + d}u)) * ui(${strideAt + d}u);`);
      lines.push(`  ${name}Rem = ${name}Rem / ui(${shapeAt + d}u);`);
    }
  }
  return lines.join('\n');
}

/** Uniform word where input k's offset sits; its kept strides follow, then its reduced strides. */
export function inputWord(k: number, keptRank: number, redRank: number): number {
  return W.shapes + keptRank + redRank + k * (1 + keptRank + redRank);
}

export function paramWord(inputs: number, keptRank: number, redRank: number): number {
  return inputWord(inputs, keptRank, redRank);
}

export function buildReduceKernel(spec: ReduceKernelSpec): Kernel {
  const { keptRank: kr, redRank: rr } = spec;
  const words = stateWords(spec.monoid);
  const decls: string[] = [];
  const bindings: ('read' | 'read_write')[] = [];
  const bind = (decl: string, mode: 'read' | 'read_write') => {
    bindings.push(mode);
    decls.push(`@group(0) @binding(${bindings.length}) var<storage, ${mode}> ${decl};`);
  };
  const loadType = (t: string) => (t === 'f16' || t === 'f32' ? 'f32' : spec.acc);
  if (spec.source === 'tensor') {
    spec.inputTypes.forEach((t, k) => {
      bind(spec.quads ? `in${k}: array<vec4<${t}>>` : `in${k}: array<${t}>`, 'read');
    });
    for (let k = 0; k < spec.params; k++) bind(`p${k}Buf: array<f32>`, 'read');
  } else {
    bind('scratchIn: array<u32>', 'read');
  }
  if (spec.sink === 'final') {
    spec.outputs.forEach((out, k) => {
      bind(`out${k}: array<${out.type}>`, 'read_write');
    });
  } else {
    bind('scratchOut: array<u32>', 'read_write');
  }
  // `unpack` names scratchIn; when the source is a tensor it is never called, but WGSL still resolves it.
  const scratchShim = spec.source === 'tensor' ? 'var<private> scratchIn: array<u32, 4>;' : '';

  // Tensor source: `foldRange` walks reduced indices first, first + step, ... < end, keeping the index split into
  // (outer, inner) over the innermost reduced dim so the loop needs no integer division (slow on CPU-backed
  // adapters, and not free anywhere).
  let body: string;
  if (spec.source === 'tensor') {
    const keptShape = W.shapes;
    const redShape = W.shapes + kr;
    const innerShape = `ui(${redShape + rr - 1}u)`;
    const bases = spec.inputTypes
      .map((_, k) => {
        const at = inputWord(k, kr, rr);
        return `  var base${k} = ui(${at}u);\n${addressing(`base${k}`, 'o', kr, keptShape, at + 1)}`;
      })
      .join('\n');
    const params = Array.from({ length: spec.params }, (_, k) => {
      const at = paramWord(spec.inputTypes.length, kr, rr) + k;
      return `  let p${k} = p${k}Buf[ui(${at}u) + o];`;
    }).join('\n');
    const outerAt = spec.inputTypes
      .map((_, k) => {
        const at = inputWord(k, kr, rr);
        if (rr === 1) return `    let at${k} = base${k} + inner * ui(${at + 1 + kr}u);`;
        return `    var at${k} = base${k} + inner * ui(${at + kr + rr}u);\n${addressing(
          `at${k}`,
          'outer',
          rr - 1,
          redShape,
          at + 1 + kr,
        )
          .replaceAll('\n', '\n  ')
          .replace(/^/, '  ')}`;
      })
      .join('\n');
    const loads = spec.inputTypes.map((t, k) => `    let a${k} = ${loadType(t)}(in${k}[at${k}]);`).join('\n');
    const foldOne = `${loads}
    acc = fold(acc, ${spec.value}, r + ui(${W.indexBase}u));`;
    // A quad's elements c = 0…3 are elements 4r + c of the reduced extent.
    const foldQuad = `${spec.inputTypes.map((_, k) => `    let q${k} = in${k}[at${k} / 4u];`).join('\n')}
    for (var c = 0u; c < 4u; c++) {
${spec.inputTypes.map((t, k) => `      let a${k} = ${loadType(t)}(q${k}[c]);`).join('\n')}
      acc = fold(acc, ${spec.value}, r * 4u + c + ui(${W.indexBase}u));
    }`;
    body = `fn foldRange(o: u32, first: u32, end: u32, step: u32) -> State {
${bases}
${params}
  let size = ${innerShape};
  let stepOuter = step / size;
  let stepInner = step % size;
  var outer = first / size;
  var inner = first % size;
  var acc = accIdentity();
  for (var r = first; r < end; r += step) {
${outerAt}
${spec.quads ? foldQuad : foldOne}
    inner += stepInner;
    outer += stepOuter;
    if (inner >= size) { inner -= size; outer += 1u; }
  }
  return finish(acc);
}`;
  } else {
    body = `fn foldRange(o: u32, first: u32, end: u32, step: u32) -> State {
  var acc = identity();
  for (var r = first; r < end; r += step) { acc = combine(acc, unpack((o * ui(${W.nRed}u) + r) * ${words}u)); }
  return acc;
}`;
  }

  const sinkFinal = spec.outputs
    .map((out, k) => `  out${k}[ui(${W.outOffset + k}u) + o] = ${out.type}(${out.expr});`)
    .join('\n');
  const sinkPartial = (slot: string) =>
    `  let packed = packWords(s);
  for (var k = 0u; k < ${words}u; k++) { scratchOut[(${slot}) * ${words}u + k] = packed[k]; }`;

  let main: string;
  if (spec.layout === 'thread') {
    main = `@compute @workgroup_size(${spec.wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = linearIndex(gid, nwg, ${spec.wg}u);
  if (o >= ui(${W.nOut}u)) { return; }
  let s = foldRange(o, 0u, ui(${W.nRed}u), 1u);
${spec.sink === 'final' ? sinkFinal : sinkPartial(`o * ui(${W.slotStride}u) + ui(${W.slotBase}u)`)}
}`;
  } else {
    main = `var<workgroup> tree: array<State, ${spec.wg}>;
@compute @workgroup_size(${spec.wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  let splits = ui(${W.splits}u);
  if (g >= ui(${W.nOut}u) * splits) { return; }
  let o = g / splits;
  let start = (g % splits) * ui(${W.chunk}u);
  let end = min(ui(${W.nRed}u), start + ui(${W.chunk}u));
  tree[lid] = foldRange(o, start + lid, end, ${spec.wg}u);
  workgroupBarrier();
  for (var h = ${spec.wg / 2}u; h > 0u; h = h >> 1u) {
    if (lid < h) { tree[lid] = combine(tree[lid], tree[lid + h]); }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let s = tree[0];
${spec.sink === 'final' ? sinkFinal : sinkPartial(`o * ui(${W.slotStride}u) + ui(${W.slotBase}u) + g % splits`)}
  }
}`;
  }
  const f16 = [...spec.inputTypes, ...spec.outputs.map((o) => o.type)].includes('f16') ? 'enable f16;\n' : '';
  const code = `${f16}${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
${decls.join('\n')}
${scratchShim}
${stateWgsl(spec.monoid, spec.acc)}
${body}
${main}`;
  const name = `reduce_${spec.monoid}${spec.quads ? '_v4' : ''}`;
  return { name, code, bindings, workgroupSize: spec.wg };
}
