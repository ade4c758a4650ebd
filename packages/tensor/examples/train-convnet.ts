import { conv2d, crossEntropy, init, randn, tidy } from '@nephron/tensor';

/** Trains a tiny convnet to tell images with a positive mean from the rest; returns the accuracy before and after. */
export async function trainConvnet(steps = 150): Promise<{ before: number; after: number; loss: number }> {
  await init();
  const x = randn([64, 1, 8, 8]);
  const y = x.mean([1, 2, 3]).gt(0).to('int32');
  const w1 = randn([4, 1, 3, 3]).mul(0.5).requiresGrad_();
  const w2 = randn([4, 2]).mul(0.5).requiresGrad_();
  const logits = () => conv2d(x, w1, null, { padding: 1 }).relu().mean([2, 3]).matmul(w2);
  const accuracy = () => tidy(() => logits().argmax(1).eq(y).to('float32').mean()).item();
  const before = await accuracy();
  let loss = 0;
  for (let step = 0; step < steps; step++) {
    const l = tidy(() => {
      const l = crossEntropy(logits(), y);
      l.backward();
      for (const p of [w1, w2]) {
        p.addInPlace(p.grad!.mul(-0.5)); // plain SGD, in place
        p.zeroGrad();
      }
      return l;
    });
    if (step === steps - 1) loss = await l.item();
    l.dispose();
  }
  return { before, after: await accuracy(), loss };
}
