import type { Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import { gemmInto } from '../matmul/gemm.js';
import { panelGemm, usePanelMatmul } from '../matmul/panel-gemm.js';
import { useDirect } from './conv-tuning.js';
import type { ConvGeometry } from './params.js';

/**
 * A 1×1 convolution with unit stride, no padding and one group is a matrix product per image over the pixels:
 * out[b] (Cout × HW) = W (Cout × Cin) · x[b] (Cin × HW), and its weight gradient is Σ_b dy[b] · x[b]ᵀ, a product
 * whose k runs along contiguous pixel rows of both operands. Run as batched matmuls, that gradient uses the
 * matmul kernels' big register tiles and vec4 loads instead of the general implicit GEMM. The image's rows and
 * columns must merge into one pixel index (h stride = w · w stride), and every operand must fit one storage
 * binding, since the matmul binds whole buffers.
 */
export function isPointwise(g: ConvGeometry): boolean {
  return (
    g.kh === 1 &&
    g.kw === 1 &&
    g.groups === 1 &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.oh === g.h &&
    g.ow === g.w
  );
}

/** Whether `t` (N×C×H×W) can be seen as N×C×(H·W): each row follows the one above it. */
export function pixelsMerge(t: Tensor): boolean {
  return t.strides[2] === t.shape[3] * t.strides[3];
}

/**
 * dL/dW = Σ_images dy · xᵀ. The pixel sum is also cut into `splits` equal chunks so enough workgroups run;
 * `partial` (images·splits × Cout × Cin, contiguous) receives one product per (image, chunk), summed by the caller.
 */
export function pointwiseGradWeightPartials(dy: Tensor, x: Tensor, splits: number, partial: Tensor): void {
  const [batch, cOut, h, w] = dy.shape;
  const cIn = x.shape[1];
  const k = (h * w) / splits;
  const a = dy.asView(
    [batch, splits, cOut, k],
    [dy.strides[0], k * dy.strides[3], dy.strides[1], dy.strides[3]],
    dy.offset,
  );
  const b = x.asView(
    [batch, splits, k, cIn],
    [x.strides[0], k * x.strides[3], x.strides[3], x.strides[1]],
    x.offset,
  );
  const out = partial.asView([batch, splits, cOut, cIn], [splits * cOut * cIn, cOut * cIn, cIn, 1], 0);
  try {
    if (!gemmInto(a, b, out))
      throw new Error('conv2d: a 1×1 weight gradient did not map onto one batched matmul');
  } finally {
    a.dispose();
    b.dispose();
    out.dispose();
  }
}

/**
 * A 1×1 convolution pass through the matmul's panel kernel (llvmpipe): per image, out[b]ᵀ (HW × N) =
 * src[b]ᵀ (HW × K) · B, where src[b]ᵀ is the image read in place as vec4s of 4 pixels (the 'm' layout) and B, the
 * weight, is what gets packed into uniform windows. Forward: src = x, B = Wᵀ (Cin × Cout). Input gradient:
 * src = dy, B = W (Cout × Cin), no bias. Returns false, doing nothing, when the panel kernel does not apply (other
 * devices, unaligned strides, buffers past one binding, small products).
 */
export function pointwisePanels(
  pass: 'forward' | 'gradInput',
  src: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  out: Tensor,
  limit: number,
): boolean {
  const [batch, k, h, w] = src.shape;
  const n = out.shape[1];
  const pixels = h * w;
  const merged = pixelsMerge(src) && src.strides[3] === 1 && src.strides[0] % 4 === 0;
  if (!merged || [src, weight, out].some((t) => t.storage.buffer.size > limit)) return false;
  const views: Tensor[] = [];
  const view = (t: Tensor, shape: number[], strides: number[], offset: number) => {
    const v = t.asView(shape, strides, offset);
    views.push(v);
    return v;
  };
  try {
    // The first image; the others are workgroup z, one batch stride apart (panel-gemm.ts's PanelImages).
    const image = view(src, [pixels, k], [1, src.strides[1]], src.offset);
    if (!usePanelMatmul(image, pixels, n, k, batch)) return false;
    const [s0, s1] = weight.strides;
    const matrix = view(weight, [k, n], pass === 'forward' ? [s1, s0] : [s0, s1], weight.offset);
    const b1 = bias ? view(bias, [n], [bias.strides[0]], bias.offset) : undefined;
    const y = view(out, [pixels, n], [out.strides[3], out.strides[1]], out.offset);
    panelGemm(image, matrix, y, b1, { count: batch, aStride: src.strides[0], outStride: out.strides[0] });
    return true;
  } finally {
    for (const v of views) v.dispose();
  }
}

/**
 * On CPU adapters a 1×1 convolution of 1-pixel images, of a batch of at most `maxPixels` pixels in all, or of at
 * most `maxPixelsWholeTiles` in images of 64 pixels or more, runs as matrix products (pointwiseGemm). The direct
 * kernel's workgroups hold 256 pixels, so it idles on tiny batches; per-image products idle too when an image is
 * narrower than their tiles. GPU time of the 1×1 layers (with their matmuls and bias additions) in UNet-B0 steps
 * on llvmpipe, `--profile`, two runs each: a training step at 2×128² 1.26–1.32 s with only 1-pixel images routed
 * so, 1.00–1.03 s up to 16 pixels per image (32 per batch), 0.94–1.02 s up to 64 (128); inference at 8×128²
 * 0.73–0.78 s with 1-pixel images only, 0.92–1.07 s up to 16 pixels per image (128 per batch). Single layers
 * (forward / input gradient ms, direct against matmuls, two rounds): 2×272×8×8 → 1632 47–51 / 37–42 against 34–35
 * / 32–35; 2×112×8×8 → 672 7–8 / 6–9 against 9–10 / 7; 8×192×4×4 → 1152 27–29 / 25–32 against 57–67 / 58–60.
 */
export const pointwiseGemmTuning = { maxPixels: 64, maxPixelsWholeTiles: 128 };

/**
 * A 1×1 convolution of small images (EfficientNet's squeeze-and-excitation layers, and its deepest stages in
 * small batches) as matrix products. 1-pixel images make one product over the batch: forward out (N × Cout) =
 * x (N × Cin) · Wᵀ + bias, input gradient dx (N × Cin) = dy (N × Cout) · W. Larger ones make one per image:
 * out[b] (Cout × HW) = W (Cout × Cin) · x[b] (Cin × HW), then the bias, or dx[b] = Wᵀ · dy[b]. Returns false,
 * doing nothing, on other devices and shapes.
 */
export function pointwiseGemm(
  pass: 'forward' | 'gradInput',
  src: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  out: Tensor,
): boolean {
  const [batch, k, h, w] = src.shape;
  const pixels = h * w;
  const { maxPixels, maxPixelsWholeTiles } = pointwiseGemmTuning;
  const total = batch * pixels;
  const small = pixels === 1 || total <= maxPixels || (pixels >= 64 && total <= maxPixelsWholeTiles);
  if (!small || !useDirect()) return false;
  if (pixels > 1 && !(pixelsMerge(src) && pixelsMerge(out) && out.strides[3] === 1)) return false;
  const n = out.shape[1];
  const [s0, s1] = weight.strides;
  const views =
    pixels === 1
      ? [
          src.asView([batch, k], [src.strides[0], src.strides[1]], src.offset),
          weight.asView([k, n], pass === 'forward' ? [s1, s0] : [s0, s1], weight.offset),
          out.asView([batch, n], [out.strides[0], out.strides[1]], out.offset),
        ]
      : [
          weight.asView([batch, n, k], pass === 'forward' ? [0, s0, s1] : [0, s1, s0], weight.offset),
          src.asView([batch, k, pixels], [src.strides[0], src.strides[1], src.strides[3]], src.offset),
          out.asView([batch, n, pixels], [out.strides[0], out.strides[1], 1], out.offset),
        ];
  const rowBias = bias && pixels > 1;
  const b1 = bias && !rowBias ? bias.asView([n], [bias.strides[0]], bias.offset) : undefined;
  try {
    if (!gemmInto(views[0], views[1], views[2], b1)) return false;
    if (rowBias) {
      // The bias runs along the product's rows here, which the matmul does not add: one pass over the output.
      const perChannel = bias.asView([1, n, 1, 1], [0, bias.strides[0], 0, 0], bias.offset);
      map([out, perChannel], { name: 'add', expr: 'a0 + a1', outDtype: out.dtype, out });
      perChannel.dispose();
    }
    return true;
  } finally {
    for (const v of views) v.dispose();
    b1?.dispose();
  }
}
