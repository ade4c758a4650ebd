import { type Kernel, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { U } from './gemm-kernel.js';

/**
 * Forward convolution for llvmpipe in which every lane owns a block of `rows × cols` adjacent output pixels for
 * the `channels` output channels its workgroup shares. Measured there (bench/peak.bench.ts), every float a lane
 * reads from a buffer costs about as much as 8-13 multiply-adds, whether its address is uniform or not, and
 * fma() compiles to a multiply, an add and a mask blend. So the kernel is built to read as few floats per
 * multiply-add as registers allow: per input channel, a lane reads the input window its block needs once,
 * `(rows-1)·sh + (kh-1)·dh + 1` rows of `(cols-1)·sw + (kw-1)·dw + 1` columns, and each weight once, and every
 * input value then feeds all the taps and channels that use it. The direct kernel (direct-kernel.ts) reads
 * `cols` inputs per tap instead, so a 3×3 window costs it nine times the pixels.
 *
 * Strides, dilation and the block are compiled in; sizes, padding and operand strides come from the uniforms
 * (conv's U block, as the direct kernel reads it: weight at aOffset/aStrides, input at bOffset/bStrides).
 */
export interface BlockTile {
  /** Lanes per workgroup. */
  wx: number;
  /** Output channels per workgroup, shared by its lanes. */
  channels: number;
  /** Output rows and columns per lane. */
  rows: number;
  cols: number;
}

export interface BlockShape {
  kh: number;
  kw: number;
  stride: [number, number];
  dilation: [number, number];
  hasBias: boolean;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function blockKey(t: BlockTile, s: BlockShape): string {
  return [
    `${t.wx}:${t.channels}x${t.rows}x${t.cols}`,
    `${s.kh}x${s.kw}`,
    `s${s.stride.join('x')}`,
    `d${s.dilation.join('x')}`,
    s.hasBias ? 'bias' : '',
  ].join(':');
}

/** Lane blocks covering an oh×ow plane: [blocks down, blocks across]. */
export function blockGrid(t: BlockTile, oh: number, ow: number): [number, number] {
  return [Math.ceil(oh / t.rows), Math.ceil(ow / t.cols)];
}

export function buildBlockKernel(t: BlockTile, s: BlockShape): Kernel {
  const [sh, sw] = s.stride;
  const [dh, dw] = s.dilation;
  const inRows = (t.rows - 1) * sh + (s.kh - 1) * dh + 1;
  const inCols = (t.cols - 1) * sw + (s.kw - 1) * dw + 1;
  const acc = (c: number, r: number, j: number) => `a${c}_${r}_${j}`;
  const accDecl = range(t.channels)
    .flatMap((c) => range(t.rows).flatMap((r) => range(t.cols).map((j) => `  var ${acc(c, r, j)} = 0.0;`)))
    .join('\n');
  // Per lane: which input columns and rows of its window lie inside the image, and where they start.
  const colSetup = range(inCols)
    .map(
      (j) => `  let cx${j} = xStart + ${j};
  let okc${j} = cx${j} >= 0 && cx${j} < IW;
  let cAt${j} = u32(max(cx${j}, 0)) * XS_W;`,
    )
    .join('\n');
  const rowSetup = range(inRows)
    .map(
      (i) => `  let ry${i} = yStart + ${i};
  let okr${i} = ok && ry${i} >= 0 && ry${i} < IH;
  let rAt${i} = u32(max(ry${i}, 0)) * XS_H;`,
    )
    .join('\n');
  // The window, read once per input channel: value v{i}_{j} is input row yStart+i, column xStart+j.
  const loads = range(inRows)
    .flatMap((i) =>
      range(inCols).map(
        (j) =>
          `      let v${i}_${j} = select(0.0, x[select(0u, chan + rAt${i} + cAt${j}, okr${i} && okc${j})], okr${i} && okc${j});`,
      ),
    )
    .join('\n');
  // Each kernel row's weights are read once and applied to every output row of the block.
  const taps = range(s.kh)
    .map((ky) => {
      const weights = range(t.channels)
        .flatMap((c) =>
          range(s.kw).map(
            (kx) => `        let w${c}_${kx} = weight[wc + wo${c} + ${ky}u * W_KH + ${kx}u * W_KW];`,
          ),
        )
        .join('\n');
      const fmas = range(t.channels)
        .flatMap((c) =>
          range(t.rows).flatMap((r) =>
            range(t.cols).flatMap((j) =>
              range(s.kw).map(
                (kx) =>
                  `        ${acc(c, r, j)} = fma(w${c}_${kx}, v${r * sh + ky * dh}_${j * sw + kx * dw}, ${acc(c, r, j)});`,
              ),
            ),
          ),
        )
        .join('\n');
      return `      {\n${weights}\n${fmas}\n      }`;
    })
    .join('\n');
  const stores = range(t.channels)
    .map((c) => {
      const ch = `g * OUT_G + m0 + ${c}u`;
      const bias = s.hasBias ? ` + bias[ui(${U.biasOffset}u) + (${ch}) * ui(${U.biasStride}u)]` : '';
      const lines = range(t.rows)
        .flatMap((r) =>
          range(t.cols).map(
            (j) =>
              `    if (oy0 + ${r}u < OH && ox0 + ${j}u < OW) { out[oBase + (${ch}) * OH * OW + (oy0 + ${r}u) * OW + ox0 + ${j}u] = ${acc(c, r, j)}${bias}; }`,
          ),
        )
        .join('\n');
      return `  if (ok && m0 + ${c}u < M) {\n${lines}\n  }`;
    })
    .join('\n');
  const code = `${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
${s.hasBias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : ''}
@group(0) @binding(${s.hasBias ? 4 : 3}) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(${t.wx})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = wid.z;
  let M = ui(${U.m}u);
  let N = ui(${U.n}u);
  let OH = ui(${U.oh}u);
  let OW = ui(${U.ow}u);
  let IH = i32(ui(${U.h}u));
  let IW = i32(ui(${U.w}u));
  let OUT_G = ui(${U.cOutG}u);
  let C_G = ui(${U.cInG}u);
  let XS_C = ui(${U.bStrides + 1}u);
  let XS_H = ui(${U.bStrides + 2}u);
  let XS_W = ui(${U.bStrides + 3}u);
  let W_OUT = ui(${U.aStrides}u);
  let W_IN = ui(${U.aStrides + 1}u);
  let W_KH = ui(${U.aStrides + 2}u);
  let W_KW = ui(${U.aStrides + 3}u);
  // This lane's block: image b, output rows oy0.., columns ox0.. (N blocks in all; lanes past N compute a
  // clamped block and store nothing).
  let blocksW = (OW + ${t.cols - 1}u) / ${t.cols}u;
  let blocksHW = ((OH + ${t.rows - 1}u) / ${t.rows}u) * blocksW;
  let n = (wid.x + ui(${U.nTileBase}u)) * ${t.wx}u + lid.x;
  let ok = n < N;
  let nc = min(n, N - 1u);
  let b = nc / blocksHW;
  let oy0 = ((nc % blocksHW) / blocksW) * ${t.rows}u;
  let ox0 = (nc % blocksW) * ${t.cols}u;
  let yStart = i32(oy0 * ${sh}u) - usi(${U.padTop}u);
  let xStart = i32(ox0 * ${sw}u) - usi(${U.padLeft}u);
  let m0 = wid.y * ${t.channels}u;
  // Channels past M read the last valid channel's weights; their results are never stored.
  let wBase = ui(${U.aOffset}u) + g * OUT_G * W_OUT;
${range(t.channels)
  .map((c) => `  let wo${c} = min(m0 + ${c}u, M - 1u) * W_OUT;`)
  .join('\n')}
  let xBase = ui(${U.bOffset}u) + b * ui(${U.bStrides}u) + g * C_G * XS_C;
  let oBase = ui(${U.outOffset}u) + b * ui(${U.cOut}u) * OH * OW;
${colSetup}
${rowSetup}
${accDecl}
  for (var ci = 0u; ci < C_G; ci++) {
    let chan = xBase + ci * XS_C;
    let wc = wBase + ci * W_IN;
    {
${loads}
${taps}
    }
  }
${stores}
}`;
  return {
    name: `conv2d_block_${blockKey(t, s)}`,
    code,
    bindings: s.hasBias ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'],
  };
}
