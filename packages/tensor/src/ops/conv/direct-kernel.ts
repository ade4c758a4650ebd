import { type Kernel, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { U } from './gemm-kernel.js';

/**
 * Implicit GEMM without workgroup memory, for CPU adapters (lavapipe, SwiftShader). There a workgroup runs as
 * SIMD lanes of one core, barriers are costly context switches and the CPU cache already does what staging in
 * workgroup memory would. So every lane owns `tn` pixels and all lanes share the same `tm` channels: weights are
 * read at addresses uniform across the workgroup (one scalar load broadcast to all lanes), and only the image
 * reads differ per lane. The kernel taps are unrolled outside the channel loop, so bounds and addresses are
 * worked out once per tap and the innermost loop is loads and multiply-adds.
 *
 *   forward    lanes: output pixels     channels: output channels   loop: input channels    reads x
 *   gradInput  lanes: input pixels      channels: input channels    loop: output channels   reads dy
 *
 * gradInput is the transposed convolution: a tap contributes only where it lands on the stride grid.
 */
export interface DirectTile {
  /** Lanes per workgroup. */
  wx: number;
  /** Channels per workgroup (shared by all lanes). */
  tm: number;
  /** Pixels per lane. */
  tn: number;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function directKey(t: DirectTile): string {
  return `${t.wx}:${t.tm}x${t.tn}`;
}

export function buildDirectKernel(
  mode: 'forward' | 'gradInput',
  t: DirectTile,
  kh: number,
  kw: number,
  hasBias: boolean,
  /**
   * Read each channel's weight in one lane and broadcast it to the subgroup (needs the `subgroups` feature and
   * subgroups of at least `tm` lanes). On llvmpipe every read inside a loop is done lane by lane, so `tm` reads
   * of the same weight cost `tm` times one; a broadcast is a register move there (bench/peak.bench.ts).
   */
  subgroupWeights = false,
): Kernel {
  const fwd = mode === 'forward';
  const bias = hasBias && fwd;
  // Spatial sizes of the pixels the lanes own (P·Q) and of the image they read (R·S).
  const own = fwd ? { rows: U.oh, cols: U.ow } : { rows: U.h, cols: U.w };
  const read = fwd ? { rows: U.h, cols: U.w } : { rows: U.oh, cols: U.ow };
  // Channels owned (rows of the product) and looped over (its k), as counts per group.
  const ownCh = fwd ? U.cOutG : U.cInG;
  const loopCh = fwd ? U.cInG : U.cOutG;
  const ownTotal = fwd ? U.cOut : U.cIn;
  // Weight strides: [cOut, cInG, kh, kw]; forward owns dim 0 and loops dim 1, gradInput the reverse.
  const wOwn = fwd ? `ui(${U.aStrides}u)` : `ui(${U.aStrides + 1}u)`;
  const wLoop = fwd ? `ui(${U.aStrides + 1}u)` : `ui(${U.aStrides}u)`;
  const pixelSetup = range(t.tn)
    .map((j) => {
      const origin = fwd
        ? `  let y${j} = i32((p${j} / OWN_W) * ui(${U.strideH}u)) - usi(${U.padTop}u);
  let x${j} = i32((p${j} % OWN_W) * ui(${U.strideW}u)) - usi(${U.padLeft}u);`
        : `  let y${j} = i32(p${j} / OWN_W) + usi(${U.padTop}u);
  let x${j} = i32(p${j} % OWN_W) + usi(${U.padLeft}u);`;
      return `  let n${j} = nTile + ${j * t.wx}u + lane;
  let ok${j} = n${j} < N;
  let nc${j} = min(n${j}, N - 1u);
  let b${j} = nc${j} / OWN_HW;
  let p${j} = nc${j} % OWN_HW;
${origin}
  let base${j} = ui(${U.bOffset}u) + b${j} * ui(${U.bStrides}u) + g * LOOP_G * ui(${U.bStrides + 1}u);`;
    })
    .join('\n');
  const taps = range(kh)
    .flatMap((ky) =>
      range(kw).map((kx) => {
        const where = range(t.tn)
          .map((j) => {
            if (fwd) {
              return `    let iy${j} = y${j} + ${ky} * DH;
    let ix${j} = x${j} + ${kx} * DW;
    let in${j} = ok${j} && iy${j} >= 0 && iy${j} < RH && ix${j} >= 0 && ix${j} < RW;
    let at${j} = select(0u, base${j} + u32(iy${j}) * ui(${U.bStrides + 2}u) + u32(ix${j}) * ui(${U.bStrides + 3}u), in${j});`;
            }
            return `    let qy${j} = y${j} - ${ky} * DH;
    let qx${j} = x${j} - ${kx} * DW;
    let in${j} = ok${j} && qy${j} >= 0 && qx${j} >= 0 && qy${j} % SH == 0 && qx${j} % SW == 0 && qy${j} / SH < RH && qx${j} / SW < RW;
    let at${j} = select(0u, base${j} + u32(qy${j} / SH) * ui(${U.bStrides + 2}u) + u32(qx${j} / SW) * ui(${U.bStrides + 3}u), in${j});`;
          })
          .join('\n');
        const anyIn = range(t.tn)
          .map((j) => `in${j}`)
          .join(' || ');
        const loads = range(t.tn)
          .map((j) => `        let v${j} = select(0.0, src[at${j} + c * LOOP_S], in${j});`)
          .join('\n');
        const weights = subgroupWeights
          ? `        let wl = weight[wTap + min(sid, ${t.tm - 1}u) * W_OWN + c * W_LOOP];
${range(t.tm)
  .map((i) => `        let w${i} = subgroupBroadcast(wl, ${i}u);`)
  .join('\n')}`
          : range(t.tm)
              .map((i) => `        let w${i} = weight[wTap + ${i}u * W_OWN + c * W_LOOP];`)
              .join('\n');
        const fmas = range(t.tm)
          .flatMap((i) => range(t.tn).map((j) => `        c${i}_${j} = fma(w${i}, v${j}, c${i}_${j});`))
          .join('\n');
        return `  {
${where}
    if (${subgroupWeights ? 'true' : anyIn}) {
      let wTap = wBase + ${ky}u * ui(${U.aStrides + 2}u) + ${kx}u * ui(${U.aStrides + 3}u);
      for (var c = 0u; c < LOOP_C; c++) {
${loads}
${weights}
${fmas}
      }
    }
  }`;
      }),
    )
    .join('\n');
  const accs = range(t.tm)
    .flatMap((i) => range(t.tn).map((j) => `  var c${i}_${j} = 0.0;`))
    .join('\n');
  const stores = range(t.tm)
    .map((i) => {
      const ch = `g * OWN_G + m0 + ${i}u`;
      const b = bias ? ` + bias[ui(${U.biasOffset}u) + (${ch}) * ui(${U.biasStride}u)]` : '';
      const lines = range(t.tn)
        .map(
          (j) =>
            `    if (ok${j}) { out[ui(${U.outOffset}u) + (b${j} * OWN_TOTAL + ${ch}) * OWN_HW + p${j}] = c${i}_${j}${b}; }`,
        )
        .join('\n');
      return `  if (m0 + ${i}u < M) {\n${lines}\n  }`;
    })
    .join('\n');
  const code = `${subgroupWeights ? 'enable subgroups;\n' : ''}${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
${bias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : ''}
@group(0) @binding(${bias ? 4 : 3}) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(${t.wx})
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,${subgroupWeights ? '\n  @builtin(subgroup_invocation_id) sid: u32,' : ''}
) {
  let lane = lid.x;
  let g = wid.z;
  let M = ui(${U.m}u);
  let N = ui(${U.n}u);
  let nTile = (wid.x + ui(${U.nTileBase}u)) * ${t.wx * t.tn}u;
  let m0 = wid.y * ${t.tm}u;
  let OWN_W = ui(${own.cols}u);
  let OWN_HW = ui(${own.rows}u) * OWN_W;
  let OWN_G = ui(${ownCh}u);
  let OWN_TOTAL = ui(${ownTotal}u);
  let LOOP_G = ui(${loopCh}u);
  let LOOP_C = LOOP_G;
  let LOOP_S = ui(${U.bStrides + 1}u);
  let W_OWN = ${wOwn};
  let W_LOOP = ${wLoop};
  let RH = i32(ui(${read.rows}u));
  let RW = i32(ui(${read.cols}u));
  let SH = i32(ui(${U.strideH}u));
  let SW = i32(ui(${U.strideW}u));
  let DH = i32(ui(${U.dilationH}u));
  let DW = i32(ui(${U.dilationW}u));
  // Rows past M read the last valid channel's weights; their results are never stored.
  let wBase = ui(${U.aOffset}u) + (g * ${fwd ? 'OWN_G' : 'LOOP_G'} + ${fwd ? 'min(m0, M - 1u)' : '0u'}) * ui(${U.aStrides}u)${fwd ? '' : ` + min(m0, M - 1u) * ui(${U.aStrides + 1}u)`};
${pixelSetup}
${accs}
${taps}
${stores}
}`;
  return {
    name: `conv2d_direct_${mode}_${kh}x${kw}_${directKey(t)}${subgroupWeights ? '_sgw' : ''}`,
    code,
    bindings: bias ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'],
  };
}
