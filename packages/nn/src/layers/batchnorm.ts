import { batchNorm2d, batchNormAct, type FusedActivation, map, type Tensor, tensor } from '@nephron/tensor';
import { Module } from '../module/module.js';

export interface BatchNorm2dOptions {
  eps?: number;
  /** Weight of the new batch statistic in the running average (PyTorch's convention; TF's 0.99 is 0.01 here). */
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/**
 * Batch normalisation over N, H, W of an N×C×H×W input, as `torch.nn.BatchNorm2d`. Training uses the batch's
 * mean and biased variance and updates `running_mean` and `running_var` (the unbiased variance) by `momentum`;
 * eval mode normalises with the running statistics. `num_batches_tracked` counts training batches (int32 here,
 * int64 in PyTorch; safetensors files carry it as I64).
 */
export class BatchNorm2d extends Module {
  readonly eps: number;
  /** Weight of each new batch in the running statistics; the trainer may change it (see TrainConfig.bnMomentum). */
  momentum: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;

  constructor(
    readonly numFeatures: number,
    options: BatchNorm2dOptions = {},
  ) {
    super();
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true } = options;
    this.eps = eps;
    this.momentum = momentum;
    const filled = (v: number) => tensor(new Float32Array(numFeatures).fill(v), [numFeatures]);
    this.weight = this.registerParameter('weight', affine ? filled(1) : null);
    this.bias = this.registerParameter('bias', affine ? filled(0) : null);
    this.runningMean = this.registerBuffer('running_mean', trackRunningStats ? filled(0) : null);
    this.runningVar = this.registerBuffer('running_var', trackRunningStats ? filled(1) : null);
    this.numBatchesTracked = this.registerBuffer(
      'num_batches_tracked',
      trackRunningStats ? tensor([0], [], { dtype: 'int32' }) : null,
    );
  }

  forward(x: Tensor): Tensor {
    return this.forwardAct(x, 'identity');
  }

  /**
   * `activation(this.forward(x))` as one fused kernel (batchNormAct): the same numbers and running statistics,
   * and backward keeps only `x` rather than also the normalised tensor.
   */
  forwardAct(x: Tensor, activation: FusedActivation): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.numFeatures) {
      throw new RangeError(
        `BatchNorm2d(${this.numFeatures}): expected an N×${this.numFeatures}×H×W input, got ${x}`,
      );
    }
    const options = {
      training: this.training || !this.runningMean,
      momentum: this.momentum,
      eps: this.eps,
    };
    const y =
      activation === 'identity'
        ? batchNorm2d(x, this.runningMean, this.runningVar, this.weight, this.bias, options)
        : batchNormAct(x, this.runningMean, this.runningVar, this.weight, this.bias, activation, options);
    const nbt = this.numBatchesTracked;
    if (this.training && nbt) {
      map([nbt], { name: 'increment', expr: 'a0 + 1', outDtype: 'int32', out: nbt, loadTypes: ['i32'] });
    }
    return y;
  }
}
