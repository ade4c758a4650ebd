import { type Kernel, UNIFORMS_WGSL } from '../../engine/kernel.js';

/**
 * Convolution as an implicit GEMM: C[m, n] = Σ_k A[m, k] · B[k, n], where one of A and B is gathered from an
 * image on the fly (im2col without the im2col buffer). Three products share one tiled kernel:
 *
 *   forward     m: output channel   n: output pixel (N·OH·OW)   k: (input channel, ky, kx)   A = weight, B = x
 *   gradInput   m: input channel    n: input pixel (N·H·W)      k: (output channel, ky, kx)  A = weight, B = dy
 *   gradWeight  m: output channel   n: (input channel, ky, kx)  k: output pixel (N·OH·OW)    A = dy,     B = x
 *
 * gradInput is the transposed convolution: dy is read at the output pixel a tap lands on, skipping taps that fall
 * between strided pixels. gradWeight's k runs over every pixel of the batch, so it is split into chunks reduced
 * afterwards (see `reduce-kernel.ts`): many workgroups share the long sum instead of one thread looping over images.
 */
export type GemmMode = 'forward' | 'gradInput' | 'gradWeight';

/** Workgroup shape and register tile: a workgroup computes (wgY·tm) × (wgX·tn) outputs, tk of k at a time. */
export interface GemmTile {
  wgX: number;
  wgY: number;
  tm: number;
  tn: number;
  tk: number;
}

/** Uniform word positions shared by the host code and the kernels. */
export const U = {
  batch: 0,
  cIn: 1,
  h: 2,
  w: 3,
  cOut: 4,
  oh: 5,
  ow: 6,
  strideH: 7,
  strideW: 8,
  padTop: 9,
  padLeft: 10,
  dilationH: 11,
  dilationW: 12,
  cInG: 13,
  cOutG: 14,
  m: 15,
  n: 16,
  k: 17,
  kChunk: 18,
  groups: 19,
  aOffset: 20,
  aStrides: 21,
  bOffset: 25,
  bStrides: 26,
  biasOffset: 30,
  biasStride: 31,
  nTileBase: 32,
  /** Element offset of the output in its binding (batch chunks bind a window of a larger buffer). */
  outOffset: 33,
} as const;

export function tileKey(t: GemmTile): string {
  return `${t.wgX}x${t.wgY}:${t.tm}x${t.tn}x${t.tk}`;
}

function checkTile(t: GemmTile): void {
  const threads = t.wgX * t.wgY;
  const bm = t.wgY * t.tm;
  const bn = t.wgX * t.tn;
  if (
    threads % t.tk !== 0 ||
    threads % bn !== 0 ||
    (t.tk * bm) % threads !== 0 ||
    (t.tk * bn) % threads !== 0
  ) {
    throw new Error(`conv2d: tile ${tileKey(t)} does not divide evenly among its threads`);
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The register-tiled inner product over one k tile staged in workgroup memory, fully unrolled. */
function innerProduct(t: GemmTile): string {
  const a = range(t.tm).map((i) => `      let a${i} = As[kk * BM + ty + ${i * t.wgY}u];`);
  const b = range(t.tn).map((j) => `      let b${j} = Bs[kk * BN + tx + ${j * t.wgX}u];`);
  const fmas = range(t.tm).flatMap((i) =>
    range(t.tn).map((j) => `      c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`),
  );
  return [...a, ...b, ...fmas].join('\n');
}

function stores(t: GemmTile, store: (i: number, j: number) => string): string {
  return range(t.tm)
    .flatMap((i) => range(t.tn).map((j) => store(i, j)))
    .join('\n');
}

/** Loads of the A and B tiles and the output store, per mode. Indices: m0/n0 tile origin, k0 the k tile. */
function modeCode(
  mode: GemmMode,
  t: GemmTile,
  hasBias: boolean,
): { setup: string; load: string; store: string } {
  const ra = (t.tk * t.wgY * t.tm) / (t.wgX * t.wgY);
  const rb = (t.tk * t.wgX * t.tn) / (t.wgX * t.wgY);
  // Rows of the A tile each thread loads: its k is fixed (tid % TK), m steps by T / TK.
  const loadA = (index: string, valid: string) =>
    range(ra)
      .map(
        (r) => `    {
      let am = tid / TK + ${r}u * (T / TK);
      var v = 0.0;
      if (${valid} && m0 + am < M) { v = srcA[${index}]; }
      As[ak * BM + am] = v;
    }`,
      )
      .join('\n');
  if (mode === 'forward') {
    return {
      // Each thread loads one fixed column (output pixel) of B: decompose it once.
      setup: `
  let bn = tid % BN;
  let nB = n0 + bn;
  let nValid = nB < N;
  let nc = min(nB, N - 1u);
  let OHW = ui(${U.oh}u) * ui(${U.ow}u);
  let bImg = nc / OHW;
  let pix = nc % OHW;
  let iy0 = i32((pix / ui(${U.ow}u)) * ui(${U.strideH}u)) - usi(${U.padTop}u);
  let ix0 = i32((pix % ui(${U.ow}u)) * ui(${U.strideW}u)) - usi(${U.padLeft}u);
  let xBase = ui(${U.bOffset}u) + bImg * ui(${U.bStrides}u) + g * ui(${U.cInG}u) * ui(${U.bStrides + 1}u);
  let H = i32(ui(${U.h}u));
  let W = i32(ui(${U.w}u));
  let dH = i32(ui(${U.dilationH}u));
  let dW = i32(ui(${U.dilationW}u));
  let wRow = ui(${U.aOffset}u) + (g * ui(${U.cOutG}u) + m0) * ui(${U.aStrides}u);`,
      load: `
    let ak = tid % TK;
    let ka = k0 + ak;
    let kaValid = ka < K;
    let kaCol = (ka / KK) * ui(${U.aStrides + 1}u) + ((ka % KK) / KW) * ui(${U.aStrides + 2}u) + (ka % KW) * ui(${U.aStrides + 3}u);
${loadA(`wRow + am * ui(${U.aStrides}u) + kaCol`, 'kaValid')}
${range(rb)
  .map(
    (r) => `    {
      let bk = tid / BN + ${r}u * (T / BN);
      let k = k0 + bk;
      let ky = (k % KK) / KW;
      let iy = iy0 + i32(ky) * dH;
      let ix = ix0 + i32(k % KW) * dW;
      var v = 0.0;
      if (nValid && k < K && iy >= 0 && iy < H && ix >= 0 && ix < W) {
        v = srcB[xBase + (k / KK) * ui(${U.bStrides + 1}u) + u32(iy) * ui(${U.bStrides + 2}u) + u32(ix) * ui(${U.bStrides + 3}u)];
      }
      Bs[bk * BN + bn] = v;
    }`,
  )
  .join('\n')}`,
      store: `
  let cOut = ui(${U.cOut}u);
${range(t.tn)
  .map(
    (j) =>
      `  let nj${j} = n0 + tx + ${j * t.wgX}u;\n  let o${j} = (nj${j} / OHW) * cOut * OHW + nj${j} % OHW;`,
  )
  .join('\n')}
${range(t.tm)
  .map(
    (i) =>
      `  let mi${i} = m0 + ty + ${i * t.wgY}u;\n  let ch${i} = g * ui(${U.cOutG}u) + min(mi${i}, M - 1u);\n  let bias${i} = ${hasBias ? `bias[ui(${U.biasOffset}u) + ch${i} * ui(${U.biasStride}u)]` : '0.0'};`,
  )
  .join('\n')}
${stores(t, (i, j) => `  if (mi${i} < M && nj${j} < N) { out[ui(${U.outOffset}u) + o${j} + ch${i} * OHW] = c${i}_${j} + bias${i}; }`)}`,
    };
  }
  if (mode === 'gradInput') {
    return {
      setup: `
  let bn = tid % BN;
  let nB = n0 + bn;
  let nValid = nB < N;
  let nc = min(nB, N - 1u);
  let HW = ui(${U.h}u) * ui(${U.w}u);
  let bImg = nc / HW;
  let pix = nc % HW;
  let qy0 = i32(pix / ui(${U.w}u)) + usi(${U.padTop}u);
  let qx0 = i32(pix % ui(${U.w}u)) + usi(${U.padLeft}u);
  let dyBase = ui(${U.bOffset}u) + bImg * ui(${U.bStrides}u) + g * ui(${U.cOutG}u) * ui(${U.bStrides + 1}u);
  let SH = i32(ui(${U.strideH}u));
  let SW = i32(ui(${U.strideW}u));
  let OH = i32(ui(${U.oh}u));
  let OW = i32(ui(${U.ow}u));
  let dH = i32(ui(${U.dilationH}u));
  let dW = i32(ui(${U.dilationW}u));
  let wBase = ui(${U.aOffset}u) + (g * ui(${U.cOutG}u)) * ui(${U.aStrides}u) + m0 * ui(${U.aStrides + 1}u);`,
      load: `
    let ak = tid % TK;
    let ka = k0 + ak;
    let kaValid = ka < K;
    let kaCol = (ka / KK) * ui(${U.aStrides}u) + ((ka % KK) / KW) * ui(${U.aStrides + 2}u) + (ka % KW) * ui(${U.aStrides + 3}u);
${loadA(`wBase + am * ui(${U.aStrides + 1}u) + kaCol`, 'kaValid')}
${range(rb)
  .map(
    (r) => `    {
      let bk = tid / BN + ${r}u * (T / BN);
      let k = k0 + bk;
      // The output pixel this tap of input pixel (qy0, qx0) came from, if it lands on the stride grid.
      let qy = qy0 - i32((k % KK) / KW) * dH;
      let qx = qx0 - i32(k % KW) * dW;
      var v = 0.0;
      if (nValid && k < K && qy >= 0 && qx >= 0 && qy % SH == 0 && qx % SW == 0 && qy / SH < OH && qx / SW < OW) {
        v = srcB[dyBase + (k / KK) * ui(${U.bStrides + 1}u) + u32(qy / SH) * ui(${U.bStrides + 2}u) + u32(qx / SW) * ui(${U.bStrides + 3}u)];
      }
      Bs[bk * BN + bn] = v;
    }`,
  )
  .join('\n')}`,
      store: `
  let cIn = ui(${U.cIn}u);
${range(t.tn)
  .map(
    (j) => `  let nj${j} = n0 + tx + ${j * t.wgX}u;\n  let o${j} = (nj${j} / HW) * cIn * HW + nj${j} % HW;`,
  )
  .join('\n')}
${range(t.tm)
  .map((i) => `  let mi${i} = m0 + ty + ${i * t.wgY}u;\n  let ch${i} = g * ui(${U.cInG}u) + mi${i};`)
  .join('\n')}
${stores(t, (i, j) => `  if (mi${i} < M && nj${j} < N) { out[ui(${U.outOffset}u) + o${j} + ch${i} * HW] = c${i}_${j}; }`)}`,
    };
  }
  // gradWeight: both tiles are loaded with a fixed k (an output pixel) per thread, decomposed once per k tile.
  return {
    setup: `
  let split = wid.z / ui(${U.groups}u);
  let kBegin = split * ui(${U.kChunk}u);
  let kEnd = min(K, kBegin + ui(${U.kChunk}u));
  let OHW = ui(${U.oh}u) * ui(${U.ow}u);
  let H = i32(ui(${U.h}u));
  let W = i32(ui(${U.w}u));
  let dH = i32(ui(${U.dilationH}u));
  let dW = i32(ui(${U.dilationW}u));
  let dyBase = ui(${U.aOffset}u) + (g * ui(${U.cOutG}u) + m0) * ui(${U.aStrides + 1}u);
  let xBase = ui(${U.bOffset}u) + g * ui(${U.cInG}u) * ui(${U.bStrides + 1}u);`,
    load: `
    let ak = tid % TK;
    let kp = k0 + ak;
    let kValid = kp < kEnd;
    let kc = min(kp, K - 1u);
    let bImg = kc / OHW;
    let pix = kc % OHW;
    let oy = pix / ui(${U.ow}u);
    let ox = pix % ui(${U.ow}u);
    let dyPix = dyBase + bImg * ui(${U.aStrides}u) + oy * ui(${U.aStrides + 2}u) + ox * ui(${U.aStrides + 3}u);
${loadA(`dyPix + am * ui(${U.aStrides + 1}u)`, 'kValid')}
    let iy0 = i32(oy * ui(${U.strideH}u)) - usi(${U.padTop}u);
    let ix0 = i32(ox * ui(${U.strideW}u)) - usi(${U.padLeft}u);
    let xPix = xBase + bImg * ui(${U.bStrides}u);
${range(rb)
  .map(
    (r) => `    {
      let bnl = tid / TK + ${r}u * (T / TK);
      let n = n0 + bnl;
      let iy = iy0 + i32((n % KK) / KW) * dH;
      let ix = ix0 + i32(n % KW) * dW;
      var v = 0.0;
      if (kValid && n < N && iy >= 0 && iy < H && ix >= 0 && ix < W) {
        v = srcB[xPix + (n / KK) * ui(${U.bStrides + 1}u) + u32(iy) * ui(${U.bStrides + 2}u) + u32(ix) * ui(${U.bStrides + 3}u)];
      }
      Bs[ak * BN + bnl] = v;
    }`,
  )
  .join('\n')}`,
    store: `
  let outBase = ui(${U.outOffset}u) + split * ui(${U.cOut}u) * N;
${range(t.tn)
  .map((j) => `  let nj${j} = n0 + tx + ${j * t.wgX}u;`)
  .join('\n')}
${range(t.tm)
  .map(
    (i) =>
      `  let mi${i} = m0 + ty + ${i * t.wgY}u;\n  let row${i} = outBase + (g * ui(${U.cOutG}u) + mi${i}) * N;`,
  )
  .join('\n')}
${stores(t, (i, j) => `  if (mi${i} < M && nj${j} < N) { out[row${i} + nj${j}] = c${i}_${j}; }`)}`,
  };
}

/** Builds the WGSL of one implicit-GEMM conv kernel; the kernel size is compiled in so index math is cheap. */
export function buildGemmKernel(
  mode: GemmMode,
  t: GemmTile,
  kh: number,
  kw: number,
  hasBias: boolean,
): Kernel {
  checkTile(t);
  const code = modeCode(mode, t, hasBias && mode === 'forward');
  const bias = hasBias && mode === 'forward';
  const accs = range(t.tm)
    .flatMap((i) => range(t.tn).map((j) => `c${i}_${j}`))
    .map((c) => `  var ${c} = 0.0;`)
    .join('\n');
  const kLoop =
    mode === 'gradWeight'
      ? 'for (var k0 = kBegin; k0 < kEnd; k0 += TK)'
      : 'for (var k0 = 0u; k0 < K; k0 += TK)';
  const wgsl = `${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> srcA: array<f32>;
@group(0) @binding(2) var<storage, read> srcB: array<f32>;
${bias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : ''}
@group(0) @binding(${bias ? 4 : 3}) var<storage, read_write> out: array<f32>;
const KH = ${kh}u;
const KW = ${kw}u;
const KK = KH * KW;
const TK = ${t.tk}u;
const BM = ${t.wgY * t.tm}u;
const BN = ${t.wgX * t.tn}u;
const T = ${t.wgX * t.wgY}u;
var<workgroup> As: array<f32, ${t.tk * t.wgY * t.tm}>;
var<workgroup> Bs: array<f32, ${t.tk * t.wgX * t.tn}>;

@compute @workgroup_size(${t.wgX}, ${t.wgY})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * ${t.wgX}u + tx;
  let M = ui(${U.m}u);
  let N = ui(${U.n}u);
  let K = ui(${U.k}u);
  let g = wid.z % ui(${U.groups}u);
  let m0 = wid.y * BM;
  let n0 = (wid.x + ui(${U.nTileBase}u)) * BN;
${code.setup}
${accs}
  ${kLoop} {
${code.load}
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
${innerProduct(t)}
    }
    workgroupBarrier();
  }
${code.store}
}`;
  return {
    name: `conv2d_${mode}_${kh}x${kw}_${tileKey(t)}`,
    code: wgsl,
    bindings: bias ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'],
  };
}
