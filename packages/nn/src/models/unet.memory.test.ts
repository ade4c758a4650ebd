import { init, memoryStats, tensor, tidy } from '@nephron/tensor';
import { beforeAll, expect, it } from 'vitest';
import { ceDiceLoss } from '../loss/losses.js';
import { AdamW } from '../optim/adamw.js';
import { CosineAnnealingWarmRestarts } from '../optim/lr-scheduler.js';
import { ruleInput, ruleTarget } from './parity-rule.js';
import { Unet } from './unet.js';

beforeAll(async () => {
  await init();
});

it('a UNet training step frees everything it allocates', { timeout: 600_000 }, async () => {
  const model = new Unet('efficientnet-b0', { classes: 2 });
  model.train();
  const x = tensor(ruleInput(2, 32), [2, 3, 32, 32]);
  const target = tensor(ruleTarget(2, 32), [2, 32, 32], { dtype: 'int32' });
  const optimizer = new AdamW(model.parameters());
  const scheduler = new CosineAnnealingWarmRestarts(optimizer, { T_0: 5, T_mult: 2 });
  const inUse: number[] = [];
  for (let step = 0; step < 4; step++) {
    optimizer.zeroGrad();
    const loss = tidy(() => ceDiceLoss(model.forward(x), target));
    loss.backward();
    await loss.item();
    loss.dispose();
    optimizer.step();
    scheduler.step(step / 4);
    inUse.push(memoryStats().bytesInUse);
  }
  // Step 1 creates the optimizer state and the gradients; after that every step ends where the last one did.
  expect(inUse[2]).toBe(inUse[1]);
  expect(inUse[3]).toBe(inUse[1]);
  optimizer.dispose();
  model.dispose();
  x.dispose();
  target.dispose();
});
