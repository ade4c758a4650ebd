import { init, memoryStats, randn, tensor, tidy } from '@nephron/tensor';
import { beforeAll, expect, it } from 'vitest';
import { MBConvBlock } from './efficientnet.js';

beforeAll(async () => {
  await init();
});

it('an MBConv block keeps five expanded activations for backward, not the seven of the unfused chain', () => {
  const block = new MBConvBlock({
    kernel: 3,
    stride: 1,
    expand: 6,
    inFilters: 16,
    outFilters: 16,
    imageSize: 32,
  });
  block.train();
  const x = randn([2, 16, 16, 16]).requiresGrad_();
  // One expanded activation as the pool sizes it.
  const start = memoryStats().bytesInUse;
  const probe = tensor(new Float32Array(2 * 96 * 16 * 16), [2, 96, 16, 16]);
  const expanded = memoryStats().bytesInUse - start;
  probe.dispose();

  const before = memoryStats().bytesInUse;
  const y = tidy(() => block.forward(x));
  const held = memoryStats().bytesInUse - before;
  // Saved: the expand conv's output (for bn0), swish(bn0) (for the depthwise conv), the depthwise output (for
  // bn1), swish(bn1) (for the SE gate) and the gated tensor (for the projection), plus the 16-channel projection
  // and output and the small SE tensors. Unfused, bn0's and bn1's outputs (kept for swish's backward) come on
  // top: seven.
  expect(held / expanded, 'expanded activations held').toBeGreaterThanOrEqual(5);
  expect(held / expanded, 'expanded activations held').toBeLessThan(6);
  y.dispose();
  x.dispose();
  block.dispose();
});
