import { fill_, keep, Tensor } from '@nephron/tensor';
import { copyInto } from '../module/module.js';

/** A group's hyperparameter values: numbers, flags and pairs such as Adam's betas. */
export type Hyper = number | boolean | readonly number[];

export type ParamGroup<H> = H & {
  params: Tensor[];
  /** Set by learning-rate schedulers: the lr they scale from, as PyTorch's `initial_lr`. */
  initialLr?: number;
};

export type ParamGroupInput<H> = Partial<H> & { params: Iterable<Tensor> };

/** Per-parameter state: counters as numbers, buffers as tensors the optimizer owns. */
export type ParamState = Record<string, Tensor | number>;

/**
 * PyTorch's `optimizer.state_dict()` layout: state by parameter index (counting through the groups in order),
 * groups with PyTorch's snake_case hyperparameter names and the indices of their parameters.
 */
export interface OptimizerStateDict {
  state: Map<number, ParamState>;
  paramGroups: (Record<string, Hyper> & { params: number[] })[];
}

/** camelCase to PyTorch's snake_case: weightDecay → weight_decay. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The base of optimizers, as `torch.optim.Optimizer`: parameter groups that share hyperparameters, lazily
 * created per-parameter state, `zeroGrad`, and a state dict for resuming training.
 */
export abstract class Optimizer<H extends Record<string, Hyper>> {
  readonly paramGroups: ParamGroup<H>[] = [];
  readonly state = new Map<Tensor, ParamState>();

  constructor(
    params: Iterable<Tensor> | readonly ParamGroupInput<H>[],
    readonly defaults: H,
  ) {
    const list = [...(params as Iterable<Tensor | ParamGroupInput<H>>)];
    if (list.length === 0) throw new Error(`${this.constructor.name}: got an empty parameter list`);
    if (list[0] instanceof Tensor)
      this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInput<H>);
    else for (const g of list as ParamGroupInput<H>[]) this.addParamGroup(g);
  }

  addParamGroup(group: ParamGroupInput<H>): void {
    const params = [...group.params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of params) {
      if (!(p instanceof Tensor))
        throw new TypeError(`${this.constructor.name}: a parameter is not a Tensor`);
      if (!p.requiresGrad) throw new Error(`${this.constructor.name}: ${p} does not require grad`);
      if (seen.has(p))
        throw new Error(`${this.constructor.name}: ${p} appears in more than one parameter group`);
      seen.add(p);
    }
    this.paramGroups.push({ ...this.defaults, ...group, params } as ParamGroup<H>);
  }

  /** Frees every gradient (set to none, PyTorch's default since 2.0). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.zeroGrad();
  }

  abstract step(): void;

  /** A buffer of the parameter's shape, owned by the optimizer (kept out of any `tidy`). */
  protected zerosLike(p: Tensor): Tensor {
    return keep(fill_(Tensor.empty(p.shape, 'float32'), 0));
  }

  stateDict(): OptimizerStateDict {
    const state = new Map<number, ParamState>();
    const paramGroups: OptimizerStateDict['paramGroups'] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const out: Record<string, Hyper> & { params: number[] } = { params: [] };
      for (const [k, v] of Object.entries(group)) {
        if (k !== 'params' && v !== undefined) out[snakeCase(k)] = v as Hyper;
      }
      for (const p of group.params) {
        const s = this.state.get(p);
        if (s) state.set(index, s);
        out.params.push(index++);
      }
      paramGroups.push(out);
    }
    return { state, paramGroups };
  }

  /**
   * Restores hyperparameters and state saved by {@link stateDict} from an optimizer over the same parameters
   * in the same order. Tensors are copied, so the caller may dispose theirs.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(
        `${name}.loadStateDict: the state has ${sd.paramGroups.length} parameter groups, the optimizer ${this.paramGroups.length}`,
      );
    }
    const byIndex: Tensor[] = [];
    sd.paramGroups.forEach((saved, gi) => {
      const group = this.paramGroups[gi];
      if (saved.params.length !== group.params.length) {
        throw new Error(
          `${name}.loadStateDict: group ${gi} has ${saved.params.length} parameters in the state, ${group.params.length} in the optimizer`,
        );
      }
      saved.params.forEach((index, k) => {
        byIndex[index] = group.params[k];
      });
    });
    for (const [index, s] of sd.state) {
      const p = byIndex[index];
      if (!p) throw new Error(`${name}.loadStateDict: state for parameter ${index}, which no group holds`);
      for (const [key, v] of Object.entries(s)) {
        if (
          v instanceof Tensor &&
          (v.shape.length !== p.shape.length || v.shape.some((d, i) => d !== p.shape[i]))
        ) {
          throw new Error(
            `${name}.loadStateDict: state.${index}.${key} has shape [${v.shape}], its parameter [${p.shape}]`,
          );
        }
      }
    }
    sd.paramGroups.forEach((saved, gi) => {
      const group = this.paramGroups[gi] as Record<string, unknown>;
      for (const [k, v] of Object.entries(saved)) if (k !== 'params') group[camelCase(k)] = v;
    });
    this.disposeState();
    for (const [index, s] of sd.state) {
      const p = byIndex[index];
      const copy: ParamState = {};
      for (const [key, v] of Object.entries(s)) {
        if (v instanceof Tensor) {
          const t = this.zerosLike(p);
          copyInto(t, v);
          copy[key] = t;
        } else {
          copy[key] = v;
        }
      }
      this.state.set(p, copy);
    }
  }

  private disposeState(): void {
    for (const s of this.state.values())
      for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }

  /** Frees the optimizer's state buffers (not the parameters). */
  dispose(): void {
    this.disposeState();
  }
}
