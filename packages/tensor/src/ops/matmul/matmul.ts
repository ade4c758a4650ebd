import { broadcastShapes, broadcastStrides, contiguousStrides, formatShape } from '../../shape.js';
import { recordOp, Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import { autocastCall } from '../precision/autocast.js';
import { commonFloatDtype, viaFloat32 } from '../precision/via-float32.js';
import { sumTo } from '../reduce/sum.js';
import { reshape } from '../views.js';
import { gemmInto } from './gemm.js';

/** A view with the last two dims swapped: the transpose a matmul kernel reads in place through strides. */
function mT(t: Tensor): Tensor {
  const r = t.ndim;
  const shape = [...t.shape];
  const strides = [...t.strides];
  [shape[r - 2], shape[r - 1]] = [shape[r - 1], shape[r - 2]];
  [strides[r - 2], strides[r - 1]] = [strides[r - 1], strides[r - 2]];
  return t.asView(shape, strides, t.offset);
}

/** `t` read as if broadcast to `batch` followed by its own last two dims (stride 0 on broadcast dims). */
function expandBatch(t: Tensor, batch: readonly number[]): Tensor {
  const shape = [...batch, ...t.shape.slice(-2)];
  return t.asView(shape, broadcastStrides(t.shape, t.strides, shape), t.offset);
}

/**
 * out = a · b (+ bias) for operands of equal rank and batch shape (broadcast dims as stride-0 views), into a
 * new contiguous tensor. Batches whose strides cannot be folded into the kernel's four batch dims are
 * materialised first.
 */
export function batchedGemm(a: Tensor, b: Tensor, bias?: Tensor): Tensor {
  // The GEMM kernels read float32: float16 operands are widened per call and the product rounded once.
  if (a.dtype === 'float16' || b.dtype === 'float16' || bias?.dtype === 'float16') {
    return viaFloat32([a, b, bias ?? null] as const, 'float16', (wa, wb, wbias) =>
      batchedGemm(wa, wb, wbias ?? undefined),
    );
  }
  const r = a.ndim;
  const out = Tensor.empty([...a.shape.slice(0, r - 1), b.shape[r - 1]]);
  if (gemmInto(a, b, out, bias)) return out;
  const ac = Tensor.empty(a.shape);
  const bc = Tensor.empty(b.shape);
  copyInto(a, ac);
  copyInto(b, bc);
  gemmInto(ac, bc, out, bias);
  ac.dispose();
  bc.dispose();
  return out;
}

function copyInto(src: Tensor, dst: Tensor): void {
  map([src], { name: 'copy', expr: 'a0', outDtype: dst.dtype, out: dst });
}

function checkOperand(t: Tensor, what: string): void {
  t.assertAlive();
  if (t.ndim === 0) throw new RangeError(`matmul: ${what} ${t} must have at least one dim`);
}

/**
 * Matrix product with PyTorch's `torch.matmul` semantics: 1-D operands are vectors (a dot product for two of
 * them, a prepended/appended dim removed from the result otherwise), 2-D are matrices, and higher ranks are
 * batches of matrices whose batch dims broadcast. Transposed and broadcast operands are read in place.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const autocasted = autocastCall([a, b] as const, (ah, bh) => matmul(ah, bh));
  if (autocasted) return autocasted;
  checkOperand(a, 'input');
  checkOperand(b, 'other');
  commonFloatDtype('matmul', [
    [a, 'input'],
    [b, 'other'],
  ]);
  const k = a.shape[a.ndim - 1];
  const kb = b.ndim === 1 ? b.shape[0] : b.shape[b.ndim - 2];
  if (k !== kb) {
    throw new RangeError(
      `matmul: input ${formatShape(a.shape)} and other ${formatShape(b.shape)} have inner sizes ${k} and ${kb}`,
    );
  }
  // A batch times a plain matrix is one big matrix product over the flattened batch: fewer, larger tiles, and
  // the weight gradient becomes one GEMM instead of a batch of them summed afterwards.
  if (a.ndim > 2 && b.ndim === 2) {
    const flat = reshape(a, [-1, k]);
    const y = matmul(flat, b);
    const out = reshape(y, [...a.shape.slice(0, -1), b.shape[1]]);
    flat.dispose();
    y.dispose();
    return out;
  }
  // Vectors become 1×K rows or K×1 columns (any stride works for a size-1 dim).
  const am = a.ndim === 1 ? a.asView([1, k], [0, a.strides[0]], a.offset) : a.retain();
  const bm = b.ndim === 1 ? b.asView([k, 1], [b.strides[0], 0], b.offset) : b.retain();
  const batch = broadcastShapes(am.shape.slice(0, -2), bm.shape.slice(0, -2), 'matmul batch dims');
  const ae = expandBatch(am, batch);
  const be = expandBatch(bm, batch);
  const full = batchedGemm(ae, be);
  ae.dispose();
  be.dispose();
  const m = am.shape[am.ndim - 2];
  const n = bm.shape[bm.ndim - 1];
  const resultShape = [...batch, ...(a.ndim > 1 ? [m] : []), ...(b.ndim > 1 ? [n] : [])];
  const out = full.asView(resultShape, contiguousStrides(resultShape), 0);
  full.dispose();
  const aMatShape = am.shape;
  const bMatShape = bm.shape;
  am.dispose();
  bm.dispose();
  return recordOp(
    'matmul',
    out,
    [a, b],
    (g, [sa, sb], needs) => {
      // The gradient in matrix form [...batch, M, N], whatever vector dims the result dropped.
      const gm = g.asView([...batch, m, n], gradStrides(g, batch.length, a.ndim > 1, b.ndim > 1), g.offset);
      const saM = sa.asView(aMatShape, matStrides(sa, aMatShape), sa.offset);
      const sbM = sb.asView(bMatShape, matStrides(sb, bMatShape), sb.offset);
      const grads: (Tensor | null)[] = [null, null];
      if (needs[0]) {
        const bt = mT(expandBatch(sbM, batch));
        const gaFull = batchedGemm(gm, bt);
        bt.dispose();
        grads[0] = reduceTo(gaFull, aMatShape, sa.shape);
      }
      if (needs[1]) {
        const at = mT(expandBatch(saM, batch));
        const gbFull = batchedGemm(at, gm);
        at.dispose();
        grads[1] = reduceTo(gbFull, bMatShape, sb.shape);
      }
      for (const t of [gm, saM, sbM]) t.dispose();
      return grads;
    },
    [a, b],
  );
}

/** Strides of the gradient viewed with the dropped vector dims put back (size 1, so any stride serves). */
function gradStrides(g: Tensor, batchRank: number, aIsMatrix: boolean, bIsMatrix: boolean): number[] {
  const strides = [...g.strides.slice(0, batchRank)];
  let at = batchRank;
  strides.push(aIsMatrix ? g.strides[at++] : 0);
  strides.push(bIsMatrix ? g.strides[at++] : 0);
  return strides;
}

/** Strides of an operand seen in its matrix form (a vector as a 1×K row or K×1 column). */
function matStrides(t: Tensor, matShape: readonly number[]): number[] {
  if (t.ndim > 1) return [...t.strides];
  return matShape[0] === 1 ? [0, t.strides[0]] : [t.strides[0], 0];
}

/** Sums a batched gradient over the batch dims its operand was broadcast along, then drops vector dims. */
function reduceTo(full: Tensor, matShape: readonly number[], shape: readonly number[]): Tensor {
  const reduced = sumTo(full, matShape);
  full.dispose();
  const out = reduced.asView(shape, contiguousStrides(shape), reduced.offset);
  reduced.dispose();
  return out;
}
