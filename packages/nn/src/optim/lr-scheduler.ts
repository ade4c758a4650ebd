import type { Hyper, Optimizer } from './optimizer.js';

type AnyOptimizer = Optimizer<Record<string, Hyper> & { lr: number }>;

/**
 * The base of learning-rate schedulers, as `torch.optim.lr_scheduler.LRScheduler`: it remembers each group's
 * starting lr (`initialLr`), and construction takes the first step, setting the lr for epoch 0.
 */
export abstract class LRScheduler {
  baseLrs: number[];
  lastEpoch: number;
  protected stepCount = 0;
  protected lastLr: number[] = [];

  constructor(
    readonly optimizer: AnyOptimizer,
    lastEpoch = -1,
  ) {
    if (lastEpoch === -1) {
      for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) {
          throw new Error(`${this.constructor.name}: param group ${i} has no initialLr to resume from`);
        }
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** The lr of every group as of the last step. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  protected applyLrs(lrs: readonly number[]): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i];
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  abstract step(epoch?: number): void;
}

export interface CosineAnnealingWarmRestartsOptions {
  /** Epochs until the first restart. */
  T_0: number;
  /** Each period is T_mult times the previous one (default 1). */
  T_mult?: number;
  /** The lowest lr (default 0). */
  eta_min?: number;
  lastEpoch?: number;
}

export interface CosineAnnealingWarmRestartsState {
  T_0: number;
  T_i: number;
  T_mult: number;
  eta_min: number;
  T_cur: number;
  base_lrs: number[];
  last_epoch: number;
  _step_count: number;
  _last_lr: number[];
}

/**
 * SGDR (Loshchilov & Hutter): within a period of T_i epochs the lr follows half a cosine from the base lr down
 * to eta_min, then restarts, each period T_mult times longer (T_0 = 5, T_mult = 2 restarts at 5, 15, 35, 75).
 * `step()` advances one epoch; `step(epoch)` accepts fractional epochs, as in PyTorch's recipe of calling
 * `scheduler.step(epoch + i / iters)` every iteration.
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  readonly T_0: number;
  T_i: number;
  readonly T_mult: number;
  eta_min: number;
  T_cur: number;

  constructor(optimizer: AnyOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    const { T_0, T_mult = 1, eta_min = 0, lastEpoch = -1 } = options;
    if (!Number.isInteger(T_0) || T_0 <= 0)
      throw new RangeError(`CosineAnnealingWarmRestarts: expected a positive integer T_0, got ${T_0}`);
    if (!Number.isInteger(T_mult) || T_mult < 1)
      throw new RangeError(`CosineAnnealingWarmRestarts: expected an integer T_mult >= 1, got ${T_mult}`);
    super(optimizer, lastEpoch);
    this.T_0 = T_0;
    this.T_i = T_0;
    this.T_mult = T_mult;
    this.eta_min = eta_min;
    this.T_cur = lastEpoch;
    this.stepCount = 0;
    this.step();
  }

  /** The lr of each group at the current position in the period. */
  getLr(): number[] {
    return this.baseLrs.map(
      (base) =>
        this.eta_min + ((base - this.eta_min) * (1 + Math.cos((Math.PI * this.T_cur) / this.T_i))) / 2,
    );
  }

  /** PyTorch's own override leaves `_step_count` alone, so it stays 0 here too. */
  step(epoch?: number): void {
    let e = epoch;
    if (e === undefined && this.lastEpoch < 0) e = 0;
    if (e === undefined) {
      e = this.lastEpoch + 1;
      this.T_cur = this.T_cur + 1;
      if (this.T_cur >= this.T_i) {
        this.T_cur = this.T_cur - this.T_i;
        this.T_i = this.T_i * this.T_mult;
      }
    } else {
      if (!(e >= 0))
        throw new RangeError(`CosineAnnealingWarmRestarts: expected a non-negative epoch, got ${e}`);
      if (e >= this.T_0) {
        if (this.T_mult === 1) {
          this.T_cur = e % this.T_0;
        } else {
          // Which period e falls in: the periods end at T_0·(T_mult^n − 1)/(T_mult − 1).
          const n = Math.trunc(Math.log((e / this.T_0) * (this.T_mult - 1) + 1) / Math.log(this.T_mult));
          this.T_cur = e - (this.T_0 * (this.T_mult ** n - 1)) / (this.T_mult - 1);
          this.T_i = this.T_0 * this.T_mult ** n;
        }
      } else {
        this.T_i = this.T_0;
        this.T_cur = e;
      }
    }
    this.lastEpoch = Math.floor(e);
    this.applyLrs(this.getLr());
  }

  /** PyTorch's `state_dict()` keys, so a checkpoint's scheduler state reads the same on both sides. */
  stateDict(): CosineAnnealingWarmRestartsState {
    return {
      T_0: this.T_0,
      T_i: this.T_i,
      T_mult: this.T_mult,
      eta_min: this.eta_min,
      T_cur: this.T_cur,
      base_lrs: [...this.baseLrs],
      last_epoch: this.lastEpoch,
      _step_count: this.stepCount,
      _last_lr: [...this.lastLr],
    };
  }

  loadStateDict(state: CosineAnnealingWarmRestartsState): void {
    if (state.T_0 !== this.T_0 || state.T_mult !== this.T_mult) {
      throw new Error(
        `CosineAnnealingWarmRestarts.loadStateDict: saved T_0=${state.T_0}, T_mult=${state.T_mult} but this scheduler has T_0=${this.T_0}, T_mult=${this.T_mult}`,
      );
    }
    if (state.base_lrs.length !== this.optimizer.paramGroups.length) {
      throw new Error(
        `CosineAnnealingWarmRestarts.loadStateDict: ${state.base_lrs.length} base lrs for ${this.optimizer.paramGroups.length} param groups`,
      );
    }
    this.eta_min = state.eta_min;
    this.T_i = state.T_i;
    this.T_cur = state.T_cur;
    this.baseLrs = [...state.base_lrs];
    this.lastEpoch = state.last_epoch;
    this.stepCount = state._step_count;
    this.lastLr = [...state._last_lr];
  }
}
