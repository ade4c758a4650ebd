import { getEngine, type Tensor } from '@nephron/tensor';
import { adamwKernel, OPTIM_WORKGROUP } from './kernels.js';
import { Optimizer, type ParamGroupInput } from './optimizer.js';

export type AdamWOptions = {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
};

const KERNELS = { plain: adamwKernel(false), amsgrad: adamwKernel(true) };

/**
 * Adam with decoupled weight decay, exactly as `torch.optim.AdamW` (defaults lr 1e-3, betas (0.9, 0.999),
 * eps 1e-8, weight decay 1e-2). Each parameter is updated by one fused in-place kernel; its state is PyTorch's:
 * `step`, `exp_avg`, `exp_avg_sq` (and `max_exp_avg_sq` with amsgrad).
 */
export class AdamW extends Optimizer<AdamWOptions> {
  constructor(
    params: Iterable<Tensor> | readonly ParamGroupInput<AdamWOptions>[],
    options: Partial<AdamWOptions> = {},
  ) {
    const defaults: AdamWOptions = {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 1e-2,
      amsgrad: false,
      maximize: false,
      ...options,
    };
    if (!(defaults.lr >= 0)) throw new RangeError(`AdamW: invalid learning rate ${defaults.lr}`);
    if (!(defaults.eps >= 0)) throw new RangeError(`AdamW: invalid eps ${defaults.eps}`);
    for (const b of defaults.betas) {
      if (!(b >= 0 && b < 1)) throw new RangeError(`AdamW: invalid beta ${b} (must be in [0, 1))`);
    }
    if (!(defaults.weightDecay >= 0))
      throw new RangeError(`AdamW: invalid weight decay ${defaults.weightDecay}`);
    super(params, defaults);
  }

  step(): void {
    const engine = getEngine();
    for (const group of this.paramGroups) {
      const { lr, eps, weightDecay, amsgrad, maximize } = group;
      const [beta1, beta2] = group.betas;
      for (const p of group.params) {
        const g = p.grad;
        if (!g) continue;
        checkOperands('AdamW', p, g);
        let s = this.state.get(p);
        if (!s) {
          s = { step: 0, exp_avg: this.zerosLike(p), exp_avg_sq: this.zerosLike(p) };
          if (amsgrad) s.max_exp_avg_sq = this.zerosLike(p);
          this.state.set(p, s);
        }
        const step = (s.step as number) + 1;
        s.step = step;
        const biasCorrection1 = 1 - beta1 ** step;
        const biasCorrection2 = 1 - beta2 ** step;
        const buffers = [g, p, s.exp_avg as Tensor, s.exp_avg_sq as Tensor];
        if (amsgrad) {
          s.max_exp_avg_sq ??= this.zerosLike(p);
          buffers.push(s.max_exp_avg_sq as Tensor);
        }
        const n = p.numel();
        engine.dispatch(
          amsgrad ? KERNELS.amsgrad : KERNELS.plain,
          buffers.map((t) => t.storage.buffer),
          [
            n,
            p.offset,
            g.offset,
            { f: 1 - lr * weightDecay },
            { f: beta1 },
            { f: 1 - beta1 },
            { f: beta2 },
            { f: 1 - beta2 },
            { f: lr / biasCorrection1 },
            { f: Math.sqrt(biasCorrection2) },
            { f: eps },
            { f: maximize ? -1 : 1 },
          ],
          engine.grid(n, OPTIM_WORKGROUP),
        );
      }
    }
  }
}

/** The fused kernels index parameter, gradient and state as dense float32 arrays. */
export function checkOperands(optimizer: string, p: Tensor, g: Tensor): void {
  if (p.dtype !== 'float32' || g.dtype !== 'float32') {
    throw new TypeError(`${optimizer}: ${p} and its gradient must be float32, got ${p.dtype} and ${g.dtype}`);
  }
  if (!p.isContiguous() || !g.isContiguous()) {
    throw new Error(`${optimizer}: ${p} and its gradient must be contiguous`);
  }
}
