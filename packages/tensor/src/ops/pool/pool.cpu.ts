import type { CpuTensor } from '../../testing/cpu-tensor.js';

type P2 = [number, number];

function outSize(x: CpuTensor, k: P2, s: P2, p: P2): P2 {
  return [
    Math.floor((x.shape[2] + 2 * p[0] - k[0]) / s[0]) + 1,
    Math.floor((x.shape[3] + 2 * p[1] - k[1]) / s[1]) + 1,
  ];
}

/** `max_pool2d` in float64 with PyTorch's indices (h·W + w) and tie rule (the first maximum wins). */
export function maxPool2dCpu(x: CpuTensor, k: P2, s: P2, p: P2): { output: CpuTensor; indices: number[] } {
  const [n, c, h, w] = x.shape;
  const [oh, ow] = outSize(x, k, s, p);
  const out = new Float64Array(n * c * oh * ow);
  const indices: number[] = new Array(out.length);
  for (let nc = 0; nc < n * c; nc++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let best = Number.NEGATIVE_INFINITY;
        let at = -1;
        for (let a = 0; a < k[0]; a++) {
          for (let b = 0; b < k[1]; b++) {
            const y = i * s[0] - p[0] + a;
            const z = j * s[1] - p[1] + b;
            if (y < 0 || y >= h || z < 0 || z >= w) continue;
            const v = x.data[(nc * h + y) * w + z];
            if (at < 0 || v > best) {
              best = v;
              at = y * w + z;
            }
          }
        }
        out[(nc * oh + i) * ow + j] = best;
        indices[(nc * oh + i) * ow + j] = at;
      }
    }
  }
  return { output: { data: out, shape: [n, c, oh, ow] }, indices };
}

/** `avg_pool2d` in float64 (ceil_mode false). */
export function avgPool2dCpu(x: CpuTensor, k: P2, s: P2, p: P2, countIncludePad: boolean): CpuTensor {
  const [n, c, h, w] = x.shape;
  const [oh, ow] = outSize(x, k, s, p);
  const out = new Float64Array(n * c * oh * ow);
  for (let nc = 0; nc < n * c; nc++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const hs = i * s[0] - p[0];
        const ws = j * s[1] - p[1];
        const he = Math.min(hs + k[0], h + p[0]);
        const we = Math.min(ws + k[1], w + p[1]);
        let total = 0;
        let real = 0;
        for (let y = Math.max(hs, 0); y < Math.min(he, h); y++) {
          for (let z = Math.max(ws, 0); z < Math.min(we, w); z++) {
            total += x.data[(nc * h + y) * w + z];
            real++;
          }
        }
        out[(nc * oh + i) * ow + j] = total / (countIncludePad ? (he - hs) * (we - ws) : real);
      }
    }
  }
  return { data: out, shape: [n, c, oh, ow] };
}

/** `adaptive_avg_pool2d` in float64: bin i of O over S is [floor(i·S/O), ceil((i+1)·S/O)). */
export function adaptiveAvgPool2dCpu(x: CpuTensor, size: P2): CpuTensor {
  const [n, c, h, w] = x.shape;
  const [oh, ow] = size;
  const out = new Float64Array(n * c * oh * ow);
  for (let nc = 0; nc < n * c; nc++) {
    for (let i = 0; i < oh; i++) {
      const h0 = Math.floor((i * h) / oh);
      const h1 = Math.ceil(((i + 1) * h) / oh);
      for (let j = 0; j < ow; j++) {
        const w0 = Math.floor((j * w) / ow);
        const w1 = Math.ceil(((j + 1) * w) / ow);
        let total = 0;
        for (let y = h0; y < h1; y++) for (let z = w0; z < w1; z++) total += x.data[(nc * h + y) * w + z];
        out[(nc * oh + i) * ow + j] = total / ((h1 - h0) * (w1 - w0));
      }
    }
  }
  return { data: out, shape: [n, c, oh, ow] };
}
