import { type Generator, linear, type Tensor } from '@nephron/tensor';
import { defaultBias, defaultWeight } from '../init/init.js';
import { Module } from '../module/module.js';

/** y = x·Wᵀ + b over the last dim, as `torch.nn.Linear`: `weight` [out, in], initialised as PyTorch does. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean; generator?: Generator } = {},
  ) {
    super();
    const { bias = true, generator } = options;
    const shape = [outFeatures, inFeatures];
    this.weight = this.registerParameter('weight', defaultWeight(shape, generator));
    this.bias = this.registerParameter('bias', bias ? defaultBias(shape, generator) : null);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
