// The null experiment for mixed precision: the float32 demo with every training input rounded to half, i.e. a
// float32 run disturbed exactly as much as autocast's first cast disturbs it, and nothing else. If this run
// lands where `demo --precision mixed` lands rather than where plain float32 does, the gap between the two is the
// training's sensitivity to rounding, not float16 arithmetic. Validation and test prediction are not rounded.
//   npx tsx --conditions @nephron/source packages/hubmap/bench/demo-half-input.bench.ts OUT [SEED]
import { Unet } from '@nephron/nn';
import { cast, init, type Tensor } from '@nephron/tensor';
import { nodeDemoFolder, runDemo } from '../src/index.js';

const [out, seed = '1'] = process.argv.slice(2);
if (!out) throw new Error('usage: demo-half-input.bench.ts OUT [SEED]');
await init();
// runDemo builds its own Unet, so the rounding goes on the class for this process only.
const forward = Unet.prototype.forward;
Unet.prototype.forward = function (this: Unet, x: Tensor): Tensor {
  return forward.call(this, this.training ? cast(cast(x, 'float16'), 'float32') : x);
};
const result = await runDemo({
  out: nodeDemoFolder(out),
  seed: Number(seed),
  hooks: {
    onEpoch: (m) =>
      console.log(
        `epoch ${m.epoch + 1}: loss ${m.trainLoss?.toFixed(4)}, validation Dice ${m.validationDice?.toFixed(4)}`,
      ),
  },
});
console.log(`test Dice ${result.score.mean.toFixed(4)}`);
process.exit(0);
