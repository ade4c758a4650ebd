// The UNet and input the nn benchmarks share: `[variant batch size]` from the command line (default b4 2 128),
// the parity rule's deterministic images, the engine initialised on the current adapter.
import { init, type Tensor, tensor } from '@nephron/tensor';
import type { EfficientNetName } from '../src/models/efficientnet-config.js';
import { ruleInput } from '../src/models/parity-rule.js';
import { Unet } from '../src/models/unet.js';

export const MiB = 1024 * 1024;

export async function benchUnet(): Promise<{
  model: Unet;
  x: Tensor;
  batch: number;
  size: number;
  variant: string;
}> {
  const [variant = 'b4', batchArg = '2', sizeArg = '128'] = process.argv.slice(2);
  const batch = Number(batchArg);
  const size = Number(sizeArg);
  await init();
  const model = new Unet(`efficientnet-${variant}` as EfficientNetName, { classes: 2 });
  const x = tensor(ruleInput(batch, size), [batch, 3, size, size]);
  return { model, x, batch, size, variant };
}
