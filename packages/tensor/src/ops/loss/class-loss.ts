import { WGSL_TYPE } from '../../dtype.js';
import { getEngine } from '../../engine/engine.js';
import { kernelCache } from '../../engine/kernel.js';
import { formatShape, numel } from '../../shape.js';
import { recordOp, Tensor } from '../../tensor.js';
import { map } from '../elementwise/map.js';
import { forEachSlab, planSlabs, slabWindow } from '../elementwise/slabs.js';
import { cast } from '../elementwise/where.js';
import { reduce } from '../reduce/reduce.js';
import { type ClassLossSpec, LOSS_WG, lossBackwardKernel, lossForwardKernel } from './class-loss-kernels.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface ClassLossOptions {
  /** Targets equal to this contribute nothing, and are not counted by 'mean' (PyTorch's default −100). */
  ignoreIndex?: number;
  reduction?: Reduction;
  /** Per-class weights [C]; 'mean' divides by the summed weights of the counted targets, as PyTorch does. */
  weight?: Tensor | null;
}

const cached = kernelCache();

/** A handle on `t` that is contiguous and starts at element 0, as the loss kernels index it (copied if not). */
function packed(t: Tensor): Tensor {
  if (t.isContiguous() && t.offset === 0) return t.asView(t.shape, t.strides, 0);
  return map([t], { name: 'copy', expr: 'a0', outDtype: t.dtype, loadTypes: [WGSL_TYPE[t.dtype]] });
}

function checkInputs(name: string, input: Tensor, target: Tensor, weight: Tensor | null | undefined): void {
  if (input.dtype !== 'float32') throw new TypeError(`${name}: input ${input} must be float32 or float16`);
  if (input.ndim < 2) throw new RangeError(`${name}: input ${input} must be [N, C] or [N, C, ...]`);
  if (target.dtype !== 'int32')
    throw new TypeError(`${name}: target ${target} must hold int32 class indices`);
  const want = [input.shape[0], ...input.shape.slice(2)];
  if (target.ndim !== want.length || target.shape.some((d, i) => d !== want[i])) {
    throw new RangeError(
      `${name}: target has shape ${formatShape(target.shape)} but input ${formatShape(input.shape)} needs ${formatShape(want)}`,
    );
  }
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== input.shape[1] || weight.dtype !== 'float32')) {
    throw new RangeError(`${name}: weight ${weight} must be float32 of shape [${input.shape[1]}]`);
  }
}

/**
 * Shared body of crossEntropy and nllLoss: a per-pixel forward kernel, a reduction, and a fused backward that
 * writes the whole input gradient in one elementwise pass.
 */
export function classLoss(
  kind: ClassLossSpec['kind'],
  input: Tensor,
  target: Tensor,
  options: ClassLossOptions,
): Tensor {
  if (input.dtype === 'float16') {
    // A loss sums over every pixel, beyond what half precision holds: float16 logits are widened (a recorded
    // cast, so their gradient comes back as float16) and the loss is float32, as under PyTorch's autocast.
    const wide = cast(input, 'float32');
    const loss = classLoss(kind, wide, target, options);
    wide.dispose();
    return loss;
  }
  const name = kind === 'ce' ? 'crossEntropy' : 'nllLoss';
  const { ignoreIndex = -100, reduction = 'mean', weight = null } = options;
  checkInputs(name, input, target, weight);
  const x = packed(input);
  const t = packed(target);
  const w = weight ? packed(weight) : null;
  const C = input.shape[1];
  const pixels = numel(target.shape);
  const S = pixels / Math.max(input.shape[0], 1);
  const spec: ClassLossSpec = { kind, hasWeight: w !== null };
  const loss = Tensor.empty(target.shape, 'float32');
  const counted = Tensor.empty(target.shape, 'float32');
  const lse = kind === 'ce' ? Tensor.empty(target.shape, 'float32') : null;
  const engine = getEngine();
  // Samples are independent: logits larger than a binding run as batch slabs, each tensor bound as its window.
  // The tensors are packed from element 0 and 4-byte, so those of one shape share one window-relative offset.
  const plan = planSlabs(
    name,
    [
      [x, 'logits'],
      [t, 'target'],
    ],
    0,
    'sample',
  );
  const forward = cached(`f${JSON.stringify(spec)}`, () => lossForwardKernel(spec));
  forEachSlab(plan, (n0, samples) => {
    if (samples * S === 0) return;
    const [bx, bt, ...outs] = [x, t, loss, counted, ...(lse ? [lse] : [])].map((k) =>
      slabWindow(plan, k, n0, samples),
    );
    engine.dispatch(
      forward,
      [bx.binding, bt.binding, ...(w ? [w.storage.buffer] : []), ...outs.map((o) => o.binding)],
      [samples * S, C, S, { i: ignoreIndex }, bx.offset, bt.offset],
      engine.grid(samples * S, LOSS_WG),
    );
  });
  let out: Tensor;
  let denominator: Tensor | null = null;
  const all = target.shape.map((_, i) => i);
  const total = (v: Tensor) =>
    reduce({
      name: `${name}_sum`,
      monoid: 'sum',
      inputs: [v],
      dims: all,
      outputs: [{ dtype: 'float32', expr: 's.v' }],
    })[0];
  if (reduction === 'none') {
    out = loss;
  } else if (reduction === 'sum') {
    out = total(loss);
    loss.dispose();
  } else {
    const summed = total(loss);
    denominator = total(counted);
    out = map([summed, denominator], { name: `${name}_mean`, expr: 'a0 / a1', outDtype: 'float32' });
    summed.dispose();
    loss.dispose();
  }
  counted.dispose();
  // nll's gradient does not depend on its input, so only cross entropy keeps the logits.
  const saved = [...(lse ? [x, lse] : []), t, ...(w ? [w] : []), ...(denominator ? [denominator] : [])];
  const result = recordOp(
    name,
    out,
    [input],
    (g, kept) => {
      let k = 0;
      const sx = lse ? kept[k++] : null;
      const sl = lse ? kept[k++] : null;
      const st = kept[k++];
      const sw = w ? kept[k++] : null;
      const sd = denominator ? kept[k++] : null;
      const gc = packed(g);
      const gx = Tensor.empty(input.shape, 'float32');
      const bwd = { ...spec, reduction };
      const backward = cached(`b${JSON.stringify(bwd)}`, () => lossBackwardKernel(bwd));
      forEachSlab(plan, (n0, samples) => {
        if (samples * S === 0) return;
        const at = (k: Tensor) => slabWindow(plan, k, n0, samples);
        const bgx = at(gx);
        const bt = at(st);
        // The kernel's binding order: x and lse only for 'ce'; g per pixel only for 'none'.
        engine.dispatch(
          backward,
          [
            ...(sx ? [at(sx).binding] : []),
            bt.binding,
            ...(sl ? [at(sl).binding] : []),
            ...(sw ? [sw.storage.buffer] : []),
            reduction === 'none' ? at(gc).binding : gc.storage.buffer,
            ...(sd ? [sd.storage.buffer] : []),
            bgx.binding,
          ],
          [samples * S, C, S, { i: ignoreIndex }, bgx.offset, bt.offset],
          engine.grid(samples * C * S, LOSS_WG),
        );
      });
      gc.dispose();
      return [gx];
    },
    saved,
  );
  for (const s of [x, t, lse, w, denominator]) if (s && s !== out) s.dispose();
  return result;
}
