import type { CpuTensor } from '../../testing/cpu-tensor.js';
import { type Conv2dOptions, type ConvGeometry, convGeometry } from './params.js';

/** Calls `f(outIndex, xIndex, wIndex)` for every multiply-add of the convolution. */
function eachTap(g: ConvGeometry, f: (o: number, x: number, w: number, co: number) => void): void {
  for (let n = 0; n < g.batch; n++)
    for (let co = 0; co < g.cOut; co++) {
      const group = Math.floor(co / g.cOutG);
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          const o = ((n * g.cOut + co) * g.oh + oy) * g.ow + ox;
          for (let ci = 0; ci < g.cInG; ci++) {
            const c = group * g.cInG + ci;
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = oy * g.strideH - g.padTop + ky * g.dilationH;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.strideW - g.padLeft + kx * g.dilationW;
                if (ix < 0 || ix >= g.w) continue;
                f(
                  o,
                  ((n * g.cIn + c) * g.h + iy) * g.w + ix,
                  ((co * g.cInG + ci) * g.kh + ky) * g.kw + kx,
                  co,
                );
              }
            }
          }
        }
    }
}

/** The float64 reference of conv2d (NCHW, PyTorch semantics); `bias` may be null. */
export function conv2dCpu(
  x: CpuTensor,
  weight: CpuTensor,
  bias: CpuTensor | null,
  options: Conv2dOptions = {},
): CpuTensor {
  const g = convGeometry(x.shape, weight.shape, bias?.shape ?? null, options);
  const out = new Float64Array(g.batch * g.cOut * g.oh * g.ow);
  if (bias) {
    const plane = g.oh * g.ow;
    for (let i = 0; i < out.length; i++) out[i] = bias.data[Math.floor(i / plane) % g.cOut];
  }
  eachTap(g, (o, xi, wi) => {
    out[o] += x.data[xi] * weight.data[wi];
  });
  return { data: out, shape: [g.batch, g.cOut, g.oh, g.ow] };
}

/** Exact float64 gradients of sum(conv2d(x, w, b) · gradOut) for x, w and b. */
export function conv2dBackwardCpu(
  x: CpuTensor,
  weight: CpuTensor,
  gradOut: CpuTensor,
  options: Conv2dOptions = {},
): { x: CpuTensor; weight: CpuTensor; bias: CpuTensor } {
  const g = convGeometry(x.shape, weight.shape, null, options);
  const dx = new Float64Array(x.data.length);
  const dw = new Float64Array(weight.data.length);
  const db = new Float64Array(g.cOut);
  eachTap(g, (o, xi, wi) => {
    dx[xi] += gradOut.data[o] * weight.data[wi];
    dw[wi] += gradOut.data[o] * x.data[xi];
  });
  const plane = g.oh * g.ow;
  for (let i = 0; i < gradOut.data.length; i++) db[Math.floor(i / plane) % g.cOut] += gradOut.data[i];
  return {
    x: { data: dx, shape: [...x.shape] },
    weight: { data: dw, shape: [...weight.shape] },
    bias: { data: db, shape: [g.cOut] },
  };
}
