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
}

function check(t: MatmulTiling): void {
  const threads = t.wx * t.wy;
  const bm = t.wy * t.tm;
  const bn = t.wx * t.tn;
  if (t.tn % 4 !== 0 || t.tm % 4 !== 0) throw new Error(`matmul tiling: tm and tn must be multiples of 4`);
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
 * Workgroup memory holds A's slice transposed (k-major, m contiguous) and B's slice k-major (n contiguous), so the
 * inner loop reads whole vec4s of both and does `tm · tn / 4` vec4 multiply-adds per k. Global loads go through
 * strides, which is what lets one kernel read transposed or broadcast operands in place. Edges are handled by
 * loading zeros past M, N and K and skipping stores past M and N.
 */
export function buildMatmulKernel(variant: MatmulVariant): Kernel {
  const t = variant.tiling;
  check(t);
  const { tm, tn, wx, wy, bk } = t;
  const threads = wx * wy;
  const bm = wy * tm;
  const bn = wx * tn;
  const bm4 = bm / 4;
  const bn4 = bn / 4;
  // Slots of vec4 loads per tile; with fewer slots than threads, the extra threads sit the load out.
  const aSlots = bm4 * bk;
  const bSlots = bn4 * bk;
  const aLoads = Math.ceil(aSlots / threads);
  const bLoads = Math.ceil(bSlots / threads);
  const guard = (slots: number, s: string) => (slots < threads ? `if (${s} < ${slots}u) ` : '');
  const tn4 = tn / 4;
  const tm4 = tm / 4;

  // A tile: thread slot s covers 4 consecutive rows at one k; consecutive slots walk k first, so threads read
  // consecutive addresses of a row-major A.
  const loadA = repeat(aLoads, (l) => {
    const s = `(tid + ${l * threads}u)`;
    return `  ${guard(aSlots, s)}{
    let kk = ${s} % ${bk}u;
    let r4 = ${s} / ${bk}u;
    let k = k0 + kk;
    let row = row0 + r4 * 4u;
    var v = vec4<f32>(0.0);
    if (k < K) {
      let at = aBase + k * aCol + row * aRow;
      if (row < M) { v.x = A[at]; }
      if (row + 1u < M) { v.y = A[at + aRow]; }
      if (row + 2u < M) { v.z = A[at + 2u * aRow]; }
      if (row + 3u < M) { v.w = A[at + 3u * aRow]; }
    }
    As[kk * ${bm4}u + r4] = v;
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
    if (k < K) {
      let at = bBase + k * bRow + col * bCol;
      if (col < N) { v.x = B[at]; }
      if (col + 1u < N) { v.y = B[at + bCol]; }
      if (col + 2u < N) { v.z = B[at + 2u * bCol]; }
      if (col + 3u < N) { v.w = B[at + 3u * bCol]; }
    }
    Bs[kk * ${bn4}u + c4] = v;
  }`;
  });

  const accDecl = repeat(tm, (i) => repeat(tn4, (j) => `  var c${i}_${j} = vec4<f32>(0.0);`));
  const inner = `      ${repeat(tm4, (i) => `let a${i} = As[kk * ${bm4}u + ty * ${tm4}u + ${i}u];`)}
      ${repeat(tn4, (j) => `let b${j} = Bs[kk * ${bn4}u + tx * ${tn4}u + ${j}u];`)}
${repeat(tm, (i) =>
  repeat(
    tn4,
    (j) => `      c${i}_${j} = fma(vec4<f32>(a${Math.floor(i / 4)}[${i % 4}]), b${j}, c${i}_${j});`,
  ),
)}`;

  const biasDecl = variant.bias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : '';
  const outBinding = variant.bias ? 4 : 3;
  const store = repeat(tm, (i) =>
    repeat(tn4, (j) => {
      const lines = [0, 1, 2, 3].map((e) => {
        const bias = variant.bias ? ` + bias[biasOff + (col + ${e}u) * biasStride]` : '';
        return `      if (col + ${e}u < N) { out[at + (col + ${e}u) * outCol] = c${i}_${j}[${e}]${bias}; }`;
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

  const code = `${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
${biasDecl}
@group(0) @binding(${outBinding}) var<storage, read_write> out: array<f32>;

var<workgroup> As: array<vec4<f32>, ${bm4 * bk}>;
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
    for (var kk = 0u; kk < ${bk}u; kk++) {
${inner}
    }
    workgroupBarrier();
  }
${store}
}`;
  return {
    name: variant.bias ? 'matmul_bias' : 'matmul',
    code,
    bindings: variant.bias ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'],
  };
}

/** Rows and columns of output one workgroup covers. */
export function tileShape(t: MatmulTiling): { bm: number; bn: number } {
  return { bm: t.wy * t.tm, bn: t.wx * t.tn };
}
