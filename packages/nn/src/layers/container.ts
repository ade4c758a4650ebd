import type { Tensor } from '@nephron/tensor';
import { Module } from '../module/module.js';

/** Modules a model calls in turn: their state-dict keys are indices, `0.weight`, `1.running_mean`, ... */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: readonly M[] = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(module: M): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  at(index: number): M {
    const m = this.items.at(index);
    if (!m)
      throw new RangeError(
        `${this.constructor.name}: index ${index} out of range for ${this.items.length} modules`,
      );
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  /** A ModuleList is only a container; iterate it and call the modules. */
  forward(..._inputs: unknown[]): unknown {
    throw new Error('ModuleList has no forward(); call its modules');
  }
}

/** Runs its modules one after another, each on the previous one's output. */
export class Sequential extends ModuleList {
  override forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this) y = m.forward(y) as Tensor;
    return y;
  }
}
