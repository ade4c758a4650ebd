import type { CpuTensor } from '../../testing/cpu-tensor.js';
import { type InterpolateOptions, interpolateGeometry } from './interpolate.js';

/** `torch.nn.functional.interpolate` (nearest, bilinear) in float64. */
export function interpolateCpu(x: CpuTensor, options: InterpolateOptions): CpuTensor {
  const [n, c, h, w] = x.shape;
  const { out, steps } = interpolateGeometry([h, w], options);
  const [oh, ow] = out;
  const bilinear = options.mode === 'bilinear';
  const src = (o: number, step: number) =>
    options.alignCorners ? o * step : Math.max((o + 0.5) * step - 0.5, 0);
  // Per axis: the source pixels and weights each output reads.
  const taps = (o: number, step: number, size: number): [number, number][] => {
    // PyTorch computes the nearest source index in float32: floorf(dst * scale).
    if (!bilinear) return [[Math.min(Math.floor(Math.fround(o * Math.fround(step))), size - 1), 1]];
    const s = src(o, step);
    const i0 = Math.min(Math.floor(s), size - 1);
    const i1 = Math.min(i0 + 1, size - 1);
    const l = s - i0;
    return [
      [i0, 1 - l],
      [i1, l],
    ];
  };
  const data = new Float64Array(n * c * oh * ow);
  for (let nc = 0; nc < n * c; nc++) {
    for (let i = 0; i < oh; i++) {
      const rows = taps(i, steps[0], h);
      for (let j = 0; j < ow; j++) {
        const cols = taps(j, steps[1], w);
        let v = 0;
        for (const [y, a] of rows) for (const [z, b] of cols) v += a * b * x.data[(nc * h + y) * w + z];
        data[(nc * oh + i) * ow + j] = v;
      }
    }
  }
  return { data, shape: [n, c, oh, ow] };
}
