// Peak GPU bytes of one UNet training step (forward, CE+Dice loss, backward, AdamW), the activation-memory
// figure of issue 9: `npx tsx --conditions @nephron/source packages/nn/bench/training-memory.bench.ts [b4 2 128]`.
// Step 1 creates the optimizer state and the gradients, so step 2 is the row to read: its peak, and that peak
// less the bytes held once zeroGrad has freed the old gradients (weights, optimizer state, input): what the
// saved activations, the new gradients and backward's temporaries take.
import { getEngine, memoryStats, tensor, tidy } from '@nephron/tensor';
import { ceDiceLoss } from '../src/loss/losses.js';
import { ruleTarget } from '../src/models/parity-rule.js';
import { AdamW } from '../src/optim/adamw.js';
import { benchUnet, MiB } from './unet-input.js';

const { model, x, batch, size, variant } = await benchUnet();
const engine = getEngine();
model.train();
const target = tensor(ruleTarget(batch, size), [batch, size, size], { dtype: 'int32' });
const optimizer = new AdamW(model.parameters());
for (let step = 1; step <= 2; step++) {
  const before = memoryStats().bytesInUse;
  engine.pool.peakBytesInUse = before;
  const start = performance.now();
  optimizer.zeroGrad();
  const base = memoryStats().bytesInUse;
  const loss = tidy(() => ceDiceLoss(model.forward(x), target));
  loss.backward();
  const value = await loss.item();
  loss.dispose();
  optimizer.step();
  await engine.sync();
  const { peakBytesInUse } = memoryStats();
  console.log(
    `UNet-${variant} ${batch}×${size}² step ${step}: loss ${value.toFixed(5)}, held before ${(before / MiB).toFixed(1)} MiB, ` +
      `peak ${(peakBytesInUse / MiB).toFixed(1)} MiB, step adds ${((peakBytesInUse - before) / MiB).toFixed(1)} MiB, ` +
      `peak over weights and optimizer state ${((peakBytesInUse - base) / MiB).toFixed(1)} MiB ` +
      `(${(performance.now() - start).toFixed(0)} ms)`,
  );
}
optimizer.dispose();
model.dispose();
