import { type Kernel, LINEAR_INDEX_WGSL, UNIFORMS_WGSL } from '@nephron/tensor';

export const AUGMENT_WORKGROUP = 128;

/**
 * One thread per output pixel of a batch of tiles: warps the source crop (flip, 90° and free rotation, zoom and a
 * smooth elastic field, all as one inverse map), samples RGB bilinearly (optionally through a 3×3 Gaussian tap
 * pattern for blur) and the mask — packed in the crop's alpha byte — by nearest neighbour, then applies brightness,
 * contrast, gamma, a YIQ hue rotation and saturation, Gaussian noise, and the encoder's normalisation.
 * The same arithmetic in TypeScript (`reference.ts`) is the CPU reference.
 */
export const AUGMENT_KERNEL: Kernel = {
  name: 'augment_tiles',
  bindings: ['read', 'read', 'read_write', 'read_write'],
  workgroupSize: AUGMENT_WORKGROUP,
  code: /* wgsl */ `${UNIFORMS_WGSL}${LINEAR_INDEX_WGSL}
@group(0) @binding(1) var<storage, read> crops: array<u32>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> image: array<f32>;
@group(0) @binding(4) var<storage, read_write> mask: array<i32>;
// words: 0 N, 1 T (tile), 2 S (crop), 3 G (elastic knots a side), 4..6 mean, 7..9 std

fn texel(n: u32, x: i32, y: i32) -> vec4<f32> {
  let s = i32(ui(2u));
  let cx = clamp(x, 0, s - 1);
  let cy = clamp(y, 0, s - 1);
  let p = crops[n * u32(s * s) + u32(cy * s + cx)];
  return vec4<f32>(f32(p & 255u), f32((p >> 8u) & 255u), f32((p >> 16u) & 255u), f32(p >> 24u));
}

fn bilinear(n: u32, x: f32, y: f32) -> vec3<f32> {
  let x0 = floor(x);
  let y0 = floor(y);
  let fx = x - x0;
  let fy = y - y0;
  let ix = i32(x0);
  let iy = i32(y0);
  let top = mix(texel(n, ix, iy).rgb, texel(n, ix + 1, iy).rgb, fx);
  let bottom = mix(texel(n, ix, iy + 1).rgb, texel(n, ix + 1, iy + 1).rgb, fx);
  return mix(top, bottom, fy);
}

fn hash(v: u32) -> u32 {
  var s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

fn uniform01(v: u32) -> f32 {
  return (f32(hash(v) >> 8u) + 0.5) / 16777216.0;
}

@compute @workgroup_size(${AUGMENT_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(gid, nwg, ${AUGMENT_WORKGROUP}u);
  let n_ = ui(0u);
  let t = ui(1u);
  let s = f32(ui(2u));
  let g = ui(3u);
  if (i >= n_ * t * t) { return; }
  let n = i / (t * t);
  let pix = i % (t * t);
  let ox = pix % t;
  let oy = pix / t;
  let base = n * (16u + 2u * g * g);
  let tf = f32(t);

  // Elastic displacement: bilinear over g×g knots spanning the tile corner to corner.
  let gx = (f32(ox) + 0.5) / tf * f32(g - 1u);
  let gy = (f32(oy) + 0.5) / tf * f32(g - 1u);
  let kx = min(u32(floor(gx)), g - 2u);
  let ky = min(u32(floor(gy)), g - 2u);
  let fx = gx - f32(kx);
  let fy = gy - f32(ky);
  let k00 = base + 16u + 2u * (ky * g + kx);
  let k10 = k00 + 2u;
  let k01 = k00 + 2u * g;
  let k11 = k01 + 2u;
  let dx = mix(mix(params[k00], params[k10], fx), mix(params[k01], params[k11], fx), fy);
  let dy = mix(mix(params[k00 + 1u], params[k10 + 1u], fx), mix(params[k01 + 1u], params[k11 + 1u], fx), fy);

  let u = f32(ox) + 0.5 + dx - tf * 0.5;
  let v = f32(oy) + 0.5 + dy - tf * 0.5;
  let sx = params[base] * u + params[base + 1u] * v + s * 0.5 - 0.5;
  let sy = params[base + 2u] * u + params[base + 3u] * v + s * 0.5 - 0.5;

  mask[i] = i32(texel(n, i32(floor(sx + 0.5)), i32(floor(sy + 0.5))).a);

  let sigma = params[base + 10u];
  var rgb: vec3<f32>;
  if (sigma > 0.0) {
    var total = vec3<f32>(0.0);
    var weight = 0.0;
    for (var ty = -1; ty <= 1; ty++) {
      for (var tx = -1; tx <= 1; tx++) {
        let w = exp(-0.5 * f32(tx * tx + ty * ty));
        total += w * bilinear(n, sx + f32(tx) * sigma, sy + f32(ty) * sigma);
        weight += w;
      }
    }
    rgb = total / weight;
  } else {
    rgb = bilinear(n, sx, sy);
  }

  var c = clamp((rgb / 255.0 - 0.5) * params[base + 5u] + 0.5 + params[base + 4u], vec3<f32>(0.0), vec3<f32>(1.0));
  c = pow(c, vec3<f32>(params[base + 6u]));
  let yy = 0.299 * c.r + 0.587 * c.g + 0.114 * c.b;
  let ii = 0.596 * c.r - 0.274 * c.g - 0.322 * c.b;
  let qq = 0.211 * c.r - 0.523 * c.g + 0.312 * c.b;
  let hc = params[base + 7u];
  let hs = params[base + 8u];
  let sat = params[base + 9u];
  let i2 = (ii * hc - qq * hs) * sat;
  let q2 = (ii * hs + qq * hc) * sat;
  c = vec3<f32>(yy + 0.956 * i2 + 0.621 * q2, yy - 0.272 * i2 - 0.647 * q2, yy - 1.106 * i2 + 1.703 * q2);

  let noise = params[base + 11u];
  let seed = bitcast<u32>(params[base + 12u]);
  for (var ch = 0u; ch < 3u; ch++) {
    var value = c[ch];
    if (noise > 0.0) {
      let key = hash(seed ^ hash(pix * 3u + ch));
      let r = sqrt(-2.0 * log(uniform01(key)));
      value += noise * r * cos(6.2831853 * uniform01(key ^ 0x9e3779b9u));
    }
    value = clamp(value, 0.0, 1.0);
    image[(n * 3u + ch) * t * t + pix] = (value - uf(4u + ch)) / uf(7u + ch);
  }
}`,
};
