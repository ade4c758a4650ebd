import { getEngine, type Tensor } from '@nephron/tensor';
import { checkOperands } from './adamw.js';
import { OPTIM_WORKGROUP, sgdKernel } from './kernels.js';
import { Optimizer, type ParamGroupInput } from './optimizer.js';

export type SGDOptions = {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
};

const KERNELS = { plain: sgdKernel(false), momentum: sgdKernel(true) };

/** Stochastic gradient descent with optional (Nesterov) momentum, as `torch.optim.SGD`; one fused kernel per parameter. */
export class SGD extends Optimizer<SGDOptions> {
  constructor(
    params: Iterable<Tensor> | readonly ParamGroupInput<SGDOptions>[],
    options: Partial<SGDOptions> & { lr: number },
  ) {
    const defaults: SGDOptions = {
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      maximize: false,
      ...options,
    };
    if (!(defaults.lr >= 0)) throw new RangeError(`SGD: invalid learning rate ${defaults.lr}`);
    if (!(defaults.momentum >= 0)) throw new RangeError(`SGD: invalid momentum ${defaults.momentum}`);
    if (defaults.nesterov && (defaults.momentum <= 0 || defaults.dampening !== 0)) {
      throw new RangeError('SGD: Nesterov momentum needs a momentum and zero dampening');
    }
    super(params, defaults);
  }

  step(): void {
    const engine = getEngine();
    for (const group of this.paramGroups) {
      const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
      for (const p of group.params) {
        const g = p.grad;
        if (!g) continue;
        checkOperands('SGD', p, g);
        const n = p.numel();
        const buffers = [g, p];
        let first = 0;
        if (momentum !== 0) {
          let s = this.state.get(p);
          if (!s?.momentum_buffer) {
            s = { momentum_buffer: this.zerosLike(p) };
            this.state.set(p, s);
            first = 1;
          }
          buffers.push(s.momentum_buffer as Tensor);
        }
        engine.dispatch(
          momentum !== 0 ? KERNELS.momentum : KERNELS.plain,
          buffers.map((t) => t.storage.buffer),
          [
            n,
            p.offset,
            g.offset,
            { f: weightDecay },
            { f: momentum },
            { f: 1 - dampening },
            { f: lr },
            first,
            nesterov ? 1 : 0,
            { f: maximize ? -1 : 1 },
          ],
          engine.grid(n, OPTIM_WORKGROUP),
        );
      }
    }
  }
}
