import { type Kernel, UNIFORMS_WGSL } from '../../engine/kernel.js';
import { MATMUL_BATCH_RANK, U } from './matmul-kernel.js';

/**
 * A matmul for CPU adapters (llvmpipe) with no workgroup memory: every lane owns four adjacent columns of C (one
 * vec4 of B's row per k) and all lanes of a workgroup share the same `rows` rows of A. There a workgroup runs as
 * SIMD lanes of one core: a load whose address differs per lane is a loop over the lanes, about as costly as ten
 * multiply-adds whether it fetches a float or a vec4, while a load at an address uniform across the workgroup is
 * one scalar load broadcast to all lanes. So A is read only at uniform addresses, and each per-lane vec4 of B
 * feeds `4 · rows` multiply-adds from registers, with no barriers at all.
 *
 * It needs B's rows and C's rows as aligned vec4s (N, offsets and row and batch strides multiples of 4); A may
 * have any strides (vecA: row-major and 4-aligned, read as uniform vec4s over 4 k at once).
 */
export interface UniformRowsVariant {
  /** Rows of A (and C) per workgroup, held by every lane as `rows` vec4 accumulators. */
  rows: number;
  /** Lanes per workgroup; each covers 4 columns. */
  lanes: number;
  vecA: boolean;
  /** `bias[n]` added to every row (a linear layer), or `bias[m]` to every column (a 1×1 convolution). */
  bias: 'none' | 'column' | 'row';
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function uniformRowsKey(v: UniformRowsVariant): string {
  return `${v.rows}x${v.lanes}${v.vecA ? ':vecA' : ''}:${v.bias}`;
}

/** Columns one workgroup covers. */
export function uniformRowsColumns(v: UniformRowsVariant): number {
  return v.lanes * 4;
}

export function buildUniformRowsKernel(v: UniformRowsVariant): Kernel {
  const { rows } = v;
  const hasBias = v.bias !== 'none';
  const rowBases = range(rows)
    .map((i) => `  let a${i} = aBase + min(row0 + ${i}u, M - 1u) * aRow;`)
    .join('\n');
  const accs = range(rows)
    .map((i) => `  var c${i} = vec4<f32>(0.0);`)
    .join('\n');
  // One k: a per-lane vec4 of B, then one uniform scalar of A per row.
  const stepK = (
    kExpr: string,
    aRead: (i: number) => string,
  ) => `      let b = B4[(bCol + (${kExpr}) * bRow) / 4u];
${range(rows)
  .map((i) => `      c${i} = fma(vec4<f32>(${aRead(i)}), b, c${i});`)
  .join('\n')}`;
  // With vecA, four k per step read A as one uniform vec4 per row.
  const body = v.vecA
    ? `  let K4 = K / 4u;
  for (var q = 0u; q < K4; q++) {
${range(rows)
  .map((i) => `    let av${i} = A4[(a${i} / 4u) + q];`)
  .join('\n')}
${range(4)
  .map(
    (e) => `    {
${stepK(`q * 4u + ${e}u`, (i) => `av${i}[${e}]`)}
    }`,
  )
  .join('\n')}
  }`
    : `  for (var k = 0u; k < K; k++) {
    {
${stepK('k', (i) => `A[a${i} + k * aCol]`)}
    }
  }`;
  const stores = range(rows)
    .map((i) => {
      const bias =
        v.bias === 'column'
          ? ` + vec4<f32>(${range(4)
              .map((e) => `bias[biasOff + (col + ${e}u) * biasStride]`)
              .join(', ')})`
          : v.bias === 'row'
            ? ` + vec4<f32>(bias[biasOff + (row0 + ${i}u) * biasStride])`
            : '';
      return `    if (row0 + ${i}u < M) { out4[(oBase + (row0 + ${i}u) * oRow + col) / 4u] = c${i}${bias}; }`;
    })
    .join('\n');
  const code = `${UNIFORMS_WGSL}
@group(0) @binding(1) var<storage, read> ${v.vecA ? 'A4: array<vec4<f32>>' : 'A: array<f32>'};
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;
${hasBias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : ''}
@group(0) @binding(${hasBias ? 4 : 3}) var<storage, read_write> out4: array<vec4<f32>>;

@compute @workgroup_size(${v.lanes})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let M = ui(${U.m}u);
  let N = ui(${U.n}u);
  let K = ui(${U.k}u);
  let aRow = ui(${U.aRowStride}u);
  let aCol = ui(${U.aColStride}u);
  let bRow = ui(${U.bRowStride}u);
  let oRow = ui(${U.outRowStride}u);
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
  let col = (wid.x * ${v.lanes}u + lid.x) * 4u;
  // Lanes past N read the last column block (in range) and store nothing.
  let bCol = bBase + min(col, N - 4u);
  let row0 = wid.y * ${rows}u;
${rowBases}
${accs}
${body}
  if (col < N) {
${stores}
  }
}`;
  return {
    name: `matmul_uniform_rows_${uniformRowsKey(v)}`,
    code,
    bindings: hasBias ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'],
  };
}
