import { type Kernel, UNIFORMS_WGSL } from '../../engine/kernel.js';

/**
 * A matmul shaped for llvmpipe, where what a kernel pays for is its per-lane reads, not its multiply-adds.
 *
 * llvmpipe runs 8 invocations as the lanes of one 256-bit register, and a read whose address differs per lane
 * becomes 8 scalar loads. How those loads are emitted depends on where the data lives: a storage-buffer or
 * workgroup read tests each lane's execution mask and branches per lane, while a read from a uniform buffer is a
 * plain gather. In this kernel, gathering B from a uniform window instead of a storage buffer took 1024³ from
 * 4.2 to 7–8 GFLOP/s; with the loads of A and B both replaced by constants it ran at 23–32, so the reads are
 * what to save (bench/peak.bench.ts prices single reads). So B is first copied into "panels" of 32 (or 24)
 * columns ({@link buildPackPanelsKernel}), and each dispatch binds a ≤ 64 KiB window of panels as a uniform
 * buffer; every lane gathers its own 4 (or 3) columns of one k from it. A's rows are the same for the 8 lanes of
 * a subgroup: each lane reads a vec4 of A (4 k of one row, or 4 rows at one k, see {@link PanelLayout}) and
 * `subgroupBroadcast` hands each value to the others, a register move. A thread keeps {@link PANEL_ROWS} rows ×
 * its columns of sums, so each gathered vec4 of B feeds that many multiply-adds.
 */

/**
 * Columns of B each lane owns: 4 (32-column panels), or 3 (24-column panels, for widths such as 24 or 48 that
 * would leave a quarter of a 32-column panel idle). A lane still gathers one vec4 per k; with 3 its last
 * component is padding, skipped in the multiply-adds.
 */
export type LaneColumns = 3 | 4;

/** Columns of B in one panel: 8 lanes × {@link LaneColumns}. */
export const panelColumns = (lane: LaneColumns) => 8 * lane;

/** The lane width that pads `n` columns to the fewest panel columns (4 on a tie). */
export function laneColumnsFor(n: number): LaneColumns {
  const padded = (lane: LaneColumns) => Math.ceil(n / panelColumns(lane)) * panelColumns(lane);
  return padded(3) < padded(4) ? 3 : 4;
}

/** The WGSL type of a lane's sums, and the part of a gathered vec4 they use. */
export function laneVector(lane: LaneColumns): { type: string; part: (v: string) => string } {
  return lane === 4 ? { type: 'vec4<f32>', part: (v) => v } : { type: 'vec3<f32>', part: (v) => `${v}.xyz` };
}

/** k values of one panel that fit a 64 KiB uniform window. */
export const PANEL_WINDOW_K = 512;
/** Bytes of one uniform window (WebGPU's default maxUniformBufferBindingSize). */
export const PANEL_WINDOW_BYTES = 65536;
/** Output rows one thread accumulates; 8 subgroups of a workgroup stack theirs. */
export const PANEL_ROWS = 16;
/** Rows one workgroup covers. */
export const PANEL_BLOCK_ROWS = 8 * PANEL_ROWS;

/** Uniform words of the panel matmul. */
export const PU = {
  m: 0,
  n: 1,
  /** k values this dispatch sums (a multiple of 4, at most {@link PANEL_WINDOW_K}). */
  kCount: 2,
  /** First k of this dispatch within A's rows. */
  kStart: 3,
  aOffset: 4,
  /** A's stride along k (its rows are 4-aligned runs of m in the 'm' layout, of k in the 'k' layout). */
  aRowStride: 5,
  /** Panel of the window's first panel. */
  panel0: 6,
  /** vec4s between consecutive panels inside the window (K · 8). */
  panelStride: 7,
  outOffset: 8,
  outRowStride: 9,
  /** 1 when earlier dispatches already summed part of k into the output. */
  accumulate: 10,
  /** 1 on the dispatch that adds the bias (the last one over k). */
  addBias: 11,
  biasOffset: 12,
  biasStride: 13,
  outColStride: 14,
  /** A's stride along k in the 'm' layout. */
  aColStride: 15,
  /** Strides between the images of a batch (workgroup z). */
  aBatchStride: 16,
  outBatchStride: 17,
} as const;

/**
 * How A is read as vec4s: 'k' = 4 consecutive k of one row (row-major A; a lane reads one row), 'm' = 4
 * consecutive rows at one k (column-major A, such as an NCHW image seen as pixels × channels; a lane reads 4 of
 * its subgroup's 16 rows).
 */
export type PanelLayout = 'k' | 'm';

function repeat(n: number, f: (i: number) => string, sep = '\n'): string {
  return Array.from({ length: n }, (_, i) => f(i)).join(sep);
}

/**
 * out[M, N] (+)= A[M, k0 : k0 + kCount] · B-panels (+ bias). A is read as 4-aligned vec4s along k or along m
 * ({@link PanelLayout}); the output and bias take any strides and offset.
 */
export function buildPanelMatmulKernel(bias: boolean, layout: PanelLayout, lane: LaneColumns): Kernel {
  const rows = PANEL_ROWS;
  const { type, part } = laneVector(lane);
  // Per 4-deep step: two vec4 reads of A per lane, then for each of the 4 k one gathered vec4 of B and `rows`
  // multiply-adds, each A value broadcast from the lane that read it. In the 'k' layout read h holds rows
  // 8h..8h+7 (lane = row) at 4 k; in the 'm' layout it holds k = 2h + lane / 4 of all 16 rows (4 per lane).
  const source = (r: number, e: number) =>
    layout === 'k'
      ? `a${Math.floor(r / 8)}[${e}], ${r % 8}u`
      : `a${Math.floor(e / 2)}[${r % 4}], ${(e % 2) * 4 + Math.floor(r / 4)}u`;
  const reads =
    layout === 'k'
      ? repeat(2, (h) => `    let a${h} = A4[aAt${h} + kk / 4u];`)
      : repeat(2, (h) => `    let a${h} = A4[min(aAt + (kk + ${2 * h}u) * kStep, aLast)];`);
  // All 4 gathers first, then each row's 4 multiply-adds in a row, so a row's sums are loaded and stored once
  // per step when they do not all fit in registers.
  const step = `${reads}
${repeat(4, (e) => `    let b${e} = ${part(`Bw[bAt + (kk + ${e}u) * 8u]`)};`)}
${repeat(rows, (r) => repeat(4, (e) => `    c${r} = fma(${type}(subgroupBroadcast(${source(r, e)})), b${e}, c${r});`))}`;
  // Rows past M read in-bounds values that are never stored, which keeps every lane's read unconditional.
  const setup =
    layout === 'k'
      ? repeat(2, (h) => `  let aAt${h} = (aBase + min(row0 + ${h * 8}u + lane, M - 1u) * aRow) / 4u;`)
      : `  let kStep = ui(${PU.aColStride}u) / 4u;
  let aAt = (aBase + min(row0 + (lane % 4u) * 4u, (M - 1u) & ~3u)) / 4u + (lane / 4u) * kStep;
  let aLast = arrayLength(&A4) - 1u;`;
  const biasDecl = bias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : '';
  const outBinding = bias ? 4 : 3;
  const addBias = bias
    ? `
      if (ui(${PU.addBias}u) != 0u) { v += bias[ui(${PU.biasOffset}u) + col * ui(${PU.biasStride}u)]; }`
    : '';
  const code = `enable subgroups;
${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> Bw: array<vec4<f32>, ${PANEL_WINDOW_BYTES / 16}>;
${biasDecl}
@group(0) @binding(${outBinding}) var<storage, read_write> out: array<f32>;

fn store(image: u32, row: u32, colBase: u32, c: ${type}) {
  let M = ui(${PU.m}u);
  let N = ui(${PU.n}u);
  if (row >= M) { return; }
  let row0 = ui(${PU.outOffset}u) + image * ui(${PU.outBatchStride}u) + row * ui(${PU.outRowStride}u);
  for (var e = 0u; e < ${lane}u; e++) {
    let col = colBase + e;
    if (col < N) {
      let at = row0 + col * ui(${PU.outColStride}u);
      var v = c[e];
      if (ui(${PU.accumulate}u) != 0u) { v += out[at]; }${addBias}
      out[at] = v;
    }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let M = ui(${PU.m}u);
  let kCount = ui(${PU.kCount}u);
  let aRow = ui(${PU.aRowStride}u);
  let aBase = ui(${PU.aOffset}u) + wid.z * ui(${PU.aBatchStride}u)
    + ui(${PU.kStart}u) * ${layout === 'k' ? '1u' : `ui(${PU.aColStride}u)`};
  // Subgroups are 8 consecutive threads here, so a subgroup's rows are those of lid.x / 8.
  let row0 = wid.x * ${PANEL_BLOCK_ROWS}u + (lid.x / 8u) * ${rows}u;
${setup}
  let bAt = wid.y * ui(${PU.panelStride}u) + lane;
${repeat(rows, (r) => `  var c${r} = ${type}(0.0);`)}
  for (var kk = 0u; kk < kCount; kk += 4u) {
${step}
  }
  let colBase = (ui(${PU.panel0}u) + wid.y) * ${panelColumns(lane)}u + lane * ${lane}u;
${repeat(rows, (r) => `  store(wid.z, row0 + ${r}u, colBase, c${r});`)}
}`;
  return {
    name: `matmul_panels_${layout}${lane}${bias ? '_bias' : ''}`,
    code,
    bindings: bias ? ['read', 'uniform', 'read', 'read_write'] : ['read', 'uniform', 'read_write'],
  };
}

/** Uniform words of the packing kernel. */
export const PACK = {
  k: 0,
  n: 1,
  bOffset: 2,
  bRowStride: 3,
  bColStride: 4,
  /** vec4s to write: panels · K · 8. */
  total: 5,
  /**
   * 0, or the taps of a convolution kernel whose order is reversed: then B's row k sits at
   * (k / taps) · bRowStride + (taps − 1 − k % taps) · tapStride (a weight rotated by 180°, read in place).
   */
  taps: 6,
  tapStride: 7,
} as const;

/**
 * panels[p, k, q] = the vec4 of lane q: B[k, w·p + c·q : … + c] for c = {@link LaneColumns} and panel width w = 8c,
 * zero past N and in the padding lane of c = 3; one thread per vec4, B read through its strides so transposed or
 * broadcast operands need no copy first.
 */
export function buildPackPanelsKernel(lane: LaneColumns): Kernel {
  const code = `${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> panels: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= ui(${PACK.total}u)) { return; }
  let K = ui(${PACK.k}u);
  let N = ui(${PACK.n}u);
  let q = i % 8u;
  let k = (i / 8u) % K;
  let p = i / (8u * K);
  let col = p * ${panelColumns(lane)}u + q * ${lane}u;
  let taps = ui(${PACK.taps}u);
  let row = select(k * ui(${PACK.bRowStride}u),
    (k / max(taps, 1u)) * ui(${PACK.bRowStride}u) + (taps - 1u - k % max(taps, 1u)) * ui(${PACK.tapStride}u),
    taps > 0u);
  let at = ui(${PACK.bOffset}u) + row;
  let cs = ui(${PACK.bColStride}u);
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < ${lane}u; e++) {
    if (col + e < N) { v[e] = B[at + (col + e) * cs]; }
  }
  panels[i] = v;
}`;
  return { name: `matmul_pack_panels${lane}`, code, bindings: ['read', 'read_write'] };
}
