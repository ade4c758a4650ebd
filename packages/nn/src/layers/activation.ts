import type { Tensor } from '@nephron/tensor';
import { Module } from '../module/module.js';

/** Activation layers: no parameters, so they add no state-dict keys, exactly as in PyTorch. */

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** x·sigmoid(x), also known as swish. */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return x.silu();
  }
}

/** The EfficientNet name for SiLU (lukemelas' `MemoryEfficientSwish`). */
export class Swish extends SiLU {}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}
