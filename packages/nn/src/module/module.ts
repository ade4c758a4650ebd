import { keep, map, type Tensor } from '@nephron/tensor';

/** Named tensors in PyTorch's order, keyed exactly as PyTorch keys them (`encoder._bn0.running_mean`). */
export type StateDict = Map<string, Tensor>;

export interface LoadStateDictOptions {
  /** Fail on missing or unexpected keys (default true). Wrong shapes and dtypes always fail. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * The base of every layer and model, as PyTorch's `nn.Module`. A module owns parameters (trainable
 * tensors), buffers (state such as batch-norm running statistics) and child modules, each registered under a
 * name. Registration order is PyTorch's order, so `namedParameters()` and `stateDict()` list the same keys in
 * the same order as the PyTorch model built the same way.
 *
 * Subclasses register in their constructor and implement `forward`.
 */
export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly bufs = new Map<string, { tensor: Tensor | null; persistent: boolean }>();
  private readonly kids = new Map<string, Module | null>();

  abstract forward(...inputs: unknown[]): unknown;

  // ---- registration ------------------------------------------------------------------------------------------

  /** Registers a trainable tensor (it is marked `requiresGrad`); null keeps the name, as PyTorch's `bias=None`. */
  registerParameter<T extends Tensor | null>(name: string, value: T): T {
    this.checkName(name);
    if (value) {
      // A module owns its tensors: a `tidy` around the model's construction must not free them.
      keep(value);
      if (!value.requiresGrad) value.requiresGrad_();
    }
    this.params.set(name, value);
    return value;
  }

  /** Registers state that is not trained. Non-persistent buffers stay out of the state dict. */
  registerBuffer<T extends Tensor | null>(name: string, value: T, persistent = true): T {
    this.checkName(name);
    if (value) keep(value);
    this.bufs.set(name, { tensor: value, persistent });
    return value;
  }

  registerModule<M extends Module | null>(name: string, module: M): M {
    this.checkName(name);
    this.kids.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    if (name === '' || name.includes('.')) {
      throw new Error(`${this.constructor.name}: invalid name "${name}" (empty or containing ".")`);
    }
    if (this.params.has(name) || this.bufs.has(name) || this.kids.has(name)) {
      throw new Error(`${this.constructor.name}: "${name}" is already registered`);
    }
  }

  // ---- traversal ---------------------------------------------------------------------------------------------

  *namedChildren(): Generator<[string, Module]> {
    for (const [name, m] of this.kids) if (m) yield [name, m];
  }

  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** This module and every descendant, depth first, this one first. */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, p] of m.params) if (p) yield [path ? `${path}.${name}` : name, p];
    }
  }

  *parameters(): Generator<Tensor> {
    for (const [, p] of this.namedParameters()) yield p;
  }

  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, b] of m.bufs) if (b.tensor) yield [path ? `${path}.${name}` : name, b.tensor];
    }
  }

  *buffers(): Generator<Tensor> {
    for (const [, b] of this.namedBuffers()) yield b;
  }

  /** The number of trainable values. */
  numParameters(): number {
    let n = 0;
    for (const p of this.parameters()) n += p.numel();
    return n;
  }

  /** Calls `fn` on every module, children first, as PyTorch's `apply`. */
  apply(fn: (m: Module) => void): this {
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  // ---- modes -------------------------------------------------------------------------------------------------

  /** Training mode: batch norm uses batch statistics, dropout and drop-path are active. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Frees every parameter's gradient, as `zero_grad(set_to_none=True)`. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  // ---- state dict ----------------------------------------------------------------------------------------------

  /**
   * Parameters and persistent buffers by PyTorch key: each module's own parameters, then its buffers, then its
   * children's in registration order. The values are the module's own tensors (not copies): do not dispose them.
   */
  stateDict(prefix = ''): StateDict {
    const out: StateDict = new Map();
    for (const [path, m] of this.namedModules(prefix)) {
      const key = (name: string) => (path ? `${path}.${name}` : name);
      for (const [name, p] of m.params) if (p) out.set(key(name), p);
      for (const [name, b] of m.bufs) if (b.tensor && b.persistent) out.set(key(name), b.tensor);
    }
    return out;
  }

  /**
   * Copies tensors into this module's parameters and buffers (in place, so optimizers holding them stay
   * valid). Every problem is collected before anything is copied and reported in one error that names each
   * key: shape or dtype mismatches always, missing and unexpected keys when `strict` (the default).
   */
  loadStateDict(
    stateDict: Map<string, Tensor> | Record<string, Tensor>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    const strict = options.strict ?? true;
    const source = stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict));
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !source.has(k));
    const unexpectedKeys = [...source.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    for (const [key, target] of own) {
      const value = source.get(key);
      if (!value) continue;
      if (value.shape.length !== target.shape.length || value.shape.some((d, i) => d !== target.shape[i])) {
        problems.push(
          `size mismatch for ${key}: checkpoint has [${value.shape}], model has [${target.shape}]`,
        );
      } else if (isFloatDtype(value.dtype) !== isFloatDtype(target.dtype)) {
        problems.push(`dtype mismatch for ${key}: checkpoint has ${value.dtype}, model has ${target.dtype}`);
      }
    }
    if (strict) {
      if (missingKeys.length) problems.push(`missing keys: ${missingKeys.join(', ')}`);
      if (unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    }
    if (problems.length) {
      throw new Error(
        `${this.constructor.name}.loadStateDict: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`,
      );
    }
    for (const [key, target] of own) {
      const value = source.get(key);
      if (value && value !== target) copyInto(target, value);
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Frees every parameter and buffer of this module and its children. */
  dispose(): void {
    for (const t of this.parameters()) t.dispose();
    for (const t of this.buffers()) t.dispose();
  }
}

function isFloatDtype(dtype: Tensor['dtype']): boolean {
  return dtype === 'float32' || dtype === 'float16';
}

/** dst ← src on the GPU, converting the dtype; not recorded by autograd. */
export function copyInto(dst: Tensor, src: Tensor): void {
  const load = isFloatDtype(src.dtype) ? 'f32' : src.dtype === 'int32' ? 'i32' : 'u32';
  map([src], { name: 'copy', expr: 'a0', outDtype: dst.dtype, out: dst, loadTypes: [load] });
}
