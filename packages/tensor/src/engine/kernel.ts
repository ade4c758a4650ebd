/** A compute kernel: WGSL source plus the buffers it binds after the uniforms, and how. */
export interface Kernel {
  /** Shown in profiles and error messages. */
  name: string;
  /** WGSL source. It must declare `@group(0) @binding(0) var<uniform> u: Uniforms;` via {@link UNIFORMS_WGSL}. */
  code: string;
  /**
   * Bindings 1..n in order: storage buffers ('read' or 'read_write'), or a window of a buffer bound as a
   * uniform buffer ('uniform', at most maxUniformBufferBindingSize bytes).
   */
  bindings: readonly ('read' | 'read_write' | 'uniform')[];
  /** Workgroup size in x (y and z are 1) for kernels dispatched with {@link dispatch1d}. */
  workgroupSize?: number;
}

/**
 * A memo of built kernels for one module: `cached(key, build)` builds a kernel the first time its key is asked
 * for (WGSL generation is cheap, but the engine caches pipelines by source, so one object per variant is enough).
 */
export function kernelCache(): (key: string, build: () => Kernel) => Kernel {
  const kernels = new Map<string, Kernel>();
  return (key, build) => {
    let kernel = kernels.get(key);
    if (!kernel) {
      kernel = build();
      kernels.set(key, kernel);
    }
    return kernel;
  };
}

/** Uniform slot size; also WebGPU's default minUniformBufferOffsetAlignment. */
export const UNIFORM_SLOT_BYTES = 256;
export const UNIFORM_WORDS = UNIFORM_SLOT_BYTES / 4;

/**
 * Every kernel receives its shapes, strides and scalar arguments as 64 u32 words in a uniform slot, so a compiled
 * pipeline serves every shape. `ui(k)` reads word k as u32, `uf(k)` as f32.
 */
export const UNIFORMS_WGSL = /* wgsl */ `
struct Uniforms { w: array<vec4<u32>, ${UNIFORM_WORDS / 4}> }
@group(0) @binding(0) var<uniform> u: Uniforms;
fn ui(k: u32) -> u32 { return u.w[k / 4u][k % 4u]; }
fn uf(k: u32) -> f32 { return bitcast<f32>(ui(k)); }
fn usi(k: u32) -> i32 { return bitcast<i32>(ui(k)); }
`;

/** A flat index from a 2-D dispatch; kernels over more than 65535 workgroups spill into y. */
export const LINEAR_INDEX_WGSL = /* wgsl */ `
fn linearIndex(gid: vec3<u32>, nwg: vec3<u32>, wgSize: u32) -> u32 { return gid.x + gid.y * nwg.x * wgSize; }
`;

/** Packs uniform words: numbers that are integers go in as u32 (negative ones as i32 bits), `{f}` as f32 bits. */
export type UniformValue = number | { f: number } | { i: number };

export function packUniforms(values: readonly UniformValue[], into: Uint32Array, at: number): void {
  if (values.length > UNIFORM_WORDS) throw new RangeError(`kernel uniforms exceed ${UNIFORM_WORDS} words`);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (typeof v === 'number') {
      into[at + k] = v >>> 0;
    } else if ('f' in v) {
      f32[0] = v.f;
      into[at + k] = u32[0];
    } else {
      into[at + k] = v.i >>> 0;
    }
  }
}
