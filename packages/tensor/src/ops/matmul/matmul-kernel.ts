import { type Kernel, UNIFORMS_WGSL } from '../../engine/kernel.js';

/**
 * How one matmul workgroup splits its output tile. Each thread accumulates a `tm × tn` block of outputs in
 * registers; `wx × wy` threads cover a `(wy·tm) × (wx·tn)` tile, and each step stages a `bk`-deep slice of A and B
 * in workgroup memory so every loaded value feeds `tn` (or `tm`) multiply-adds instead of one.
 */
export interface MatmulTiling {
  tm: number;
  /** A multiple of 4: columns are held as vec4s. */
  tn: number;
  wx: number;
  wy: number;
  bk: number;
}

/** Batch dims (after broadcasting) the kernel indexes directly; more are folded by the caller. */
export const MATMUL_BATCH_RANK = 4;

/**
 * Uniform words of the matmul kernel. Every operand is addressed by offset and strides, so transposed and
 * broadcast (stride-0) operands need no copy.
 */
export const U = {
  m: 0,
  n: 1,
  k: 2,
  aOffset: 3,
  aRowStride: 4,
  aColStride: 5,
  bOffset: 6,
  bRowStride: 7,
  bColStride: 8,
  outOffset: 9,
  outRowStride: 10,
  /** First batch of this dispatch: batches past the 65535-workgroup limit go in further dispatches. */
  batchStart: 11,
  biasOffset: 12,
  biasStride: 13,
  batchShape: 16,
  aBatchStrides: 20,
  bBatchStrides: 24,
  outBatchStrides: 28,
} as const;

export interface MatmulVariant {
  tiling: MatmulTiling;
  /** Adds `bias[n]` to every output row (a fused linear layer). */
  bias: boolean;
  /** A is row-major with K, its offset, row and batch strides all multiples of 4: stage it with vec4 loads. */
  vecA: boolean;
  /** B likewise along N. */
  vecB: boolean;
  /** Storage type of A, B, bias and the output; products are always accumulated in f32. Default f32. */
  elem?: 'f32' | 'f16';
  /**
   * The 8 threads of a tile row read A's staged rows once between them and broadcast them over the subgroup.
   * Needs subgroups of exactly 8 lanes holding consecutive threads (llvmpipe's 256-bit build), wx = 8 and tm a
   * multiple of 8: on llvmpipe every read in a loop is done lane by lane, so 8 lanes reading the same row cost 8
   * reads, and a broadcast is a register move (bench/peak.bench.ts).
   */
  subgroupA?: boolean;
}

function check(t: MatmulTiling): void {
  const threads = t.wx * t.wy;
  const bm = t.wy * t.tm;
  const bn = t.wx * t.tn;
  if (t.tn % 4 !== 0 || t.tm % 4 !== 0 || t.bk % 4 !== 0) {
    throw new Error(`matmul tiling: tm, tn and bk must be multiples of 4`);
  }
  if (((bm / 4) * t.bk) % threads !== 0 && threads % ((bm / 4) * t.bk) !== 0) {
    throw new Error(`matmul tiling ${JSON.stringify(t)}: A's tile does not divide evenly over the threads`);
  }
  if (((bn / 4) * t.bk) % threads !== 0 && threads % ((bn / 4) * t.bk) !== 0) {
    throw new Error(`matmul tiling ${JSON.stringify(t)}: B's tile does not divide evenly over the threads`);
  }
}

function repeat(n: number, f: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => f(i)).join('\n');
}

/**
 * C[b] = A[b] · B[b] (+ bias) over a batch, with arbitrary strides for A, B and the output.
 *
 * Workgroup memory holds A's slice row by row (k contiguous) and B's slice k-major (n contiguous), so the inner
 * loop reads whole vec4s of both: per 4-deep step, `tm` vec4s of A and `tn` of B feed `tm · tn` vec4
 * multiply-adds. Global loads go through strides, which is what lets one kernel read transposed or broadcast
 * operands in place; operands laid out row-major and 4-aligned are staged with vec4 loads instead. Edges are
 * handled by loading zeros past M, N and K and skipping stores past M and N.
 */
export function buildMatmulKernel(variant: MatmulVariant): Kernel {
  const t = variant.tiling;
  check(t);
  if (variant.subgroupA && (t.wx !== 8 || t.tm % 8 !== 0)) {
    throw new Error(
      `matmul tiling ${JSON.stringify(t)}: subgroup reads of A need wx = 8 and tm a multiple of 8`,
    );
  }
  const { tm, tn, wx, wy, bk } = t;
  const threads = wx * wy;
  const bm = wy * tm;
  const bn = wx * tn;
  const bn4 = bn / 4;
  // Slots of vec4 loads per tile; with fewer slots than threads, the extra threads sit the load out.
  const aSlots = (bm * bk) / 4;
  const bSlots = bn4 * bk;
  const aLoads = Math.ceil(aSlots / threads);
  const bLoads = Math.ceil(bSlots / threads);
  const guard = (slots: number, s: string) => (slots < threads ? `if (${s} < ${slots}u) ` : '');
  const tn4 = tn / 4;
  const bk4 = bk / 4;
  const T = variant.elem ?? 'f32';

  // A tile, kept row by row with k contiguous: slot s covers 4 consecutive k of one row; consecutive slots walk k
  // first, so threads read consecutive addresses of a row-major A.
  const loadA = repeat(aLoads, (l) => {
    const s = `(tid + ${l * threads}u)`;
    const fetch = variant.vecA
      ? `if (row < M && k < K) { v = vec4<f32>(A4[(aBase + row * aRow + k) / 4u]); }`
      : `if (row < M) {
      let at = aBase + row * aRow + k * aCol;
      if (k < K) { v.x = f32(A[at]); }
      if (k + 1u < K) { v.y = f32(A[at + aCol]); }
      if (k + 2u < K) { v.z = f32(A[at + 2u * aCol]); }
      if (k + 3u < K) { v.w = f32(A[at + 3u * aCol]); }
    }`;
    return `  ${guard(aSlots, s)}{
    let q = ${s} % ${bk4}u;
    let m = ${s} / ${bk4}u;
    let k = k0 + q * 4u;
    let row = row0 + m;
    var v = vec4<f32>(0.0);
    ${fetch}
    As[m * ${bk4}u + q] = v;
  }`;
  });
  // B tile: slot s covers 4 consecutive columns at one k; consecutive slots walk n first.
  const loadB = repeat(bLoads, (l) => {
    const s = `(tid + ${l * threads}u)`;
    return `  ${guard(bSlots, s)}{
    let c4 = ${s} % ${bn4}u;
    let kk = ${s} / ${bn4}u;
    let k = k0 + kk;
    let col = col0 + c4 * 4u;
    var v = vec4<f32>(0.0);
    ${
      variant.vecB
        ? `if (k < K && col < N) { v = vec4<f32>(B4[(bBase + k * bRow + col) / 4u]); }`
        : `if (k < K) {
      let at = bBase + k * bRow + col * bCol;
      if (col < N) { v.x = f32(B[at]); }
      if (col + 1u < N) { v.y = f32(B[at + bCol]); }
      if (col + 2u < N) { v.z = f32(B[at + 2u * bCol]); }
      if (col + 3u < N) { v.w = f32(B[at + 3u * bCol]); }
    }`
    }
    Bs[kk * ${bn4}u + c4] = v;
  }`;
  });

  const accDecl = repeat(tm, (i) => repeat(tn4, (j) => `  var c${i}_${j} = vec4<f32>(0.0);`));
  // Per 4-deep step: each of the thread's rows gives a vec4 of 4 k values, each k a vec4 per 4 columns.
  const readA = variant.subgroupA
    ? `${repeat(tm / 8, (h) => `      let al${h} = As[(ty * ${tm}u + ${h * 8}u + tx) * ${bk4}u + kq];`)}
${repeat(tm, (i) => `      let a${i} = subgroupBroadcast(al${Math.floor(i / 8)}, ${i % 8}u);`)}`
    : repeat(tm, (i) => `      let a${i} = As[(ty * ${tm}u + ${i}u) * ${bk4}u + kq];`);
  const inner = `${readA}
${repeat(4, (e) =>
  [
    repeat(tn4, (j) => `      let b${e}_${j} = Bs[(kq * 4u + ${e}u) * ${bn4}u + tx * ${tn4}u + ${j}u];`),
    repeat(tm, (i) =>
      repeat(tn4, (j) => `      c${i}_${j} = fma(vec4<f32>(a${i}[${e}]), b${e}_${j}, c${i}_${j});`),
    ),
  ].join('\n'),
)}`;

  const biasDecl = variant.bias ? `@group(0) @binding(3) var<storage, read> bias: array<${T}>;` : '';
  const outBinding = variant.bias ? 4 : 3;
  const store = repeat(tm, (i) =>
    repeat(tn4, (j) => {
      const lines = [0, 1, 2, 3].map((e) => {
        const bias = variant.bias ? ` + f32(bias[biasOff + (col + ${e}u) * biasStride])` : '';
        return `      if (col + ${e}u < N) { out[at + (col + ${e}u) * outCol] = ${T}(c${i}_${j}[${e}]${bias}); }`;
      });
      return `  {
    let row = row0 + ty * ${tm}u + ${i}u;
    let col = col0 + tx * ${tn}u + ${j * 4}u;
    if (row < M) {
      let at = oBase + row * oRow;
${lines.join('\n')}
    }
  }`;
    }),
  );

  const code = `${T === 'f16' ? 'enable f16;\n' : ''}${variant.subgroupA ? 'enable subgroups;\n' : ''}${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> ${variant.vecA ? `A4: array<vec4<${T}>>` : `A: array<${T}>`};
@group(0) @binding(2) var<storage, read> ${variant.vecB ? `B4: array<vec4<${T}>>` : `B: array<${T}>`};
${biasDecl}
@group(0) @binding(${outBinding}) var<storage, read_write> out: array<${T}>;

var<workgroup> As: array<vec4<f32>, ${bm * bk4}>;
var<workgroup> Bs: array<vec4<f32>, ${bn4 * bk}>;

@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let M = ui(${U.m}u);
  let N = ui(${U.n}u);
  let K = ui(${U.k}u);
  let aRow = ui(${U.aRowStride}u);
  let aCol = ui(${U.aColStride}u);
  let bRow = ui(${U.bRowStride}u);
  let bCol = ui(${U.bColStride}u);
  let oRow = ui(${U.outRowStride}u);
  let outCol = 1u;
  let biasOff = ui(${U.biasOffset}u);
  let biasStride = ui(${U.biasStride}u);
  var rem = wid.z + ui(${U.batchStart}u);
  var aBase = ui(${U.aOffset}u);
  var bBase = ui(${U.bOffset}u);
  var oBase = ui(${U.outOffset}u);
  for (var dd = 0u; dd < ${MATMUL_BATCH_RANK}u; dd++) {
    let d = ${MATMUL_BATCH_RANK - 1}u - dd;
    let size = ui(${U.batchShape}u + d);
    let c = rem % size;
    rem = rem / size;
    aBase += c * ui(${U.aBatchStrides}u + d);
    bBase += c * ui(${U.bBatchStrides}u + d);
    oBase += c * ui(${U.outBatchStrides}u + d);
  }
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * ${wx}u + tx;
  let row0 = wid.y * ${bm}u;
  let col0 = wid.x * ${bn}u;
${accDecl}
  for (var k0 = 0u; k0 < K; k0 += ${bk}u) {
${loadA}
${loadB}
    workgroupBarrier();
    for (var kq = 0u; kq < ${bk4}u; kq++) {
${inner}
    }
    workgroupBarrier();
  }
${store}
}`;
  return {
    name: `${variant.bias ? 'matmul_bias' : 'matmul'}${T === 'f16' ? '_f16' : ''}${variant.subgroupA ? '_sga' : ''}`,
    code,
    bindings: variant.bias ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'],
  };
}

/** Rows and columns of output one workgroup covers. */
export function tileShape(t: MatmulTiling): { bm: number; bn: number } {
  return { bm: t.wy * t.tm, bn: t.wx * t.tn };
}
