import { dropout, dropPath, type Generator, type Tensor } from '@nephron/tensor';
import { Module } from '../module/module.js';

/** Zeroes elements with probability p in training (scaling the rest by 1/(1-p)); the identity in eval mode. */
export class Dropout extends Module {
  constructor(
    readonly p = 0.5,
    readonly generator?: Generator,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: probability ${p} is outside [0, 1]`);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, { generator: this.generator });
  }
}

/**
 * Stochastic depth on a residual branch: drops whole samples with probability p in training (EfficientNet's
 * drop-connect); the identity in eval mode.
 */
export class DropPath extends Module {
  constructor(
    readonly p = 0,
    readonly generator?: Generator,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`DropPath: probability ${p} is outside [0, 1]`);
  }

  forward(x: Tensor): Tensor {
    return dropPath(x, this.p, this.training, { generator: this.generator });
  }
}
