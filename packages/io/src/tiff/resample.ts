/** For each output index along one axis, the source indices it covers and how much of each. */
interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

/**
 * Area weights for mapping source span [start, start + length) onto `out` pixels:
 * each output pixel averages the source pixels under it, weighted by how much of each
 * it covers, so fractional factors (e.g. 1/2.5) are exact box averages.
 */
function axisWeights(start: number, length: number, out: number, limit: number): AxisWeights {
  const step = length / out;
  const stride = Math.ceil(step) + 2;
  const first = new Int32Array(out);
  const count = new Int32Array(out);
  const weights = new Float32Array(out * stride);
  for (let o = 0; o < out; o++) {
    const a = start + o * step;
    const b = a + step;
    const i0 = Math.max(0, Math.floor(a));
    const i1 = Math.min(limit, Math.ceil(b));
    first[o] = i0;
    count[o] = i1 - i0;
    let total = 0;
    for (let i = i0; i < i1; i++) {
      const w = Math.min(b, i + 1) - Math.max(a, i);
      weights[o * stride + (i - i0)] = w;
      total += w;
    }
    for (let k = 0; k < i1 - i0; k++) weights[o * stride + k] /= total;
  }
  return { first, count, weights, stride };
}

/**
 * Area-averaging resample of interleaved 8-bit pixels. The source span may start and
 * end between pixels (`sx`, `sy`, `sw`, `sh` in source pixels), so a window of a lower
 * pyramid level lines up exactly with the full-resolution region it stands for.
 */
export function areaResample(
  src: Uint8Array,
  srcWidth: number,
  srcHeight: number,
  channels: number,
  span: { x: number; y: number; width: number; height: number },
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const wx = axisWeights(span.x, span.width, outWidth, srcWidth);
  const wy = axisWeights(span.y, span.height, outHeight, srcHeight);
  // Horizontal pass over only the source rows that the output needs.
  const rowStart = wy.first[0];
  const rowEnd = wy.first[outHeight - 1] + wy.count[outHeight - 1];
  const rows = rowEnd - rowStart;
  const mid = new Float32Array(rows * outWidth * channels);
  for (let r = 0; r < rows; r++) {
    const srcRow = (rowStart + r) * srcWidth * channels;
    const midRow = r * outWidth * channels;
    for (let o = 0; o < outWidth; o++) {
      const base = o * wx.stride;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = 0; k < wx.count[o]; k++)
          sum += wx.weights[base + k] * src[srcRow + (wx.first[o] + k) * channels + c];
        mid[midRow + o * channels + c] = sum;
      }
    }
  }
  const out = new Uint8Array(outWidth * outHeight * channels);
  const rowLength = outWidth * channels;
  for (let o = 0; o < outHeight; o++) {
    const base = o * wy.stride;
    const outRow = o * rowLength;
    for (let i = 0; i < rowLength; i++) {
      let sum = 0;
      for (let k = 0; k < wy.count[o]; k++) {
        sum += wy.weights[base + k] * mid[(wy.first[o] + k - rowStart) * rowLength + i];
      }
      out[outRow + i] = Math.round(sum);
    }
  }
  return out;
}
