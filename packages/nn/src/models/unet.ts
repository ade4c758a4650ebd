import { cat, fill_, type Generator, interpolate, type Tensor } from '@nephron/tensor';
import { kaimingUniform, xavierUniform } from '../init/init.js';
import { Identity, ReLU } from '../layers/activation.js';
import { BatchNorm2d } from '../layers/batchnorm.js';
import { ModuleList, Sequential } from '../layers/container.js';
import { Conv2d } from '../layers/conv.js';
import { convBnAct } from '../layers/conv-bn-act.js';
import { copyInto, Module } from '../module/module.js';
import { EfficientNetEncoder, type EfficientNetOptions } from './efficientnet.js';
import type { EfficientNetName } from './efficientnet-config.js';

/** conv3×3 (no bias) + BN + ReLU, smp's `Conv2dReLU`: keys `0.weight`, `1.*`. */
export class Conv2dReLU extends Sequential {
  constructor(inChannels: number, outChannels: number) {
    super([
      new Conv2d(inChannels, outChannels, 3, { padding: 1, bias: false }),
      new BatchNorm2d(outChannels),
      new ReLU(),
    ]);
  }

  override forward(x: Tensor): Tensor {
    return convBnAct(this.at(0) as Conv2d, this.at(1) as BatchNorm2d, x, 'relu');
  }
}

/** smp's UNet decoder block: nearest 2× upsample, concatenate the skip, two Conv2dReLU. */
export class DecoderBlock extends Module {
  readonly conv1: Conv2dReLU;
  readonly conv2: Conv2dReLU;

  constructor(inChannels: number, skipChannels: number, outChannels: number) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2dReLU(inChannels + skipChannels, outChannels));
    this.registerModule('attention1', new Identity());
    this.conv2 = this.registerModule('conv2', new Conv2dReLU(outChannels, outChannels));
    this.registerModule('attention2', new Identity());
  }

  forward(x: Tensor, skip?: Tensor): Tensor {
    const up = interpolate(x, { scaleFactor: 2, mode: 'nearest' });
    const joined = skip ? cat([up, skip], 1) : up;
    if (joined !== up) up.dispose();
    const y = this.conv1.forward(joined);
    joined.dispose();
    const out = this.conv2.forward(y);
    y.dispose();
    return out;
  }
}

export class UnetDecoder extends Module {
  readonly blocks: ModuleList<DecoderBlock>;

  /** `encoderChannels` as the encoder reports them: [input, /2, /4, /8, /16, /32]. */
  constructor(
    encoderChannels: readonly number[],
    decoderChannels: readonly number[] = [256, 128, 64, 32, 16],
  ) {
    super();
    const enc = encoderChannels.slice(1).reverse();
    const ins = [enc[0], ...decoderChannels.slice(0, -1)];
    const skips = [...enc.slice(1), 0];
    this.registerModule('center', new Identity());
    this.blocks = this.registerModule(
      'blocks',
      new ModuleList(decoderChannels.map((out, i) => new DecoderBlock(ins[i], skips[i] ?? 0, out))),
    );
  }

  /** Takes the encoder's features; the deepest goes in, the others are skips from deep to shallow. */
  forward(features: readonly Tensor[]): Tensor {
    const [head, ...skips] = features.slice(1).reverse();
    let x = head;
    for (let i = 0; i < this.blocks.length; i++) {
      const next = this.blocks.at(i).forward(x, skips[i]);
      if (x !== head) x.dispose();
      x = next;
    }
    return x;
  }
}

export interface UnetOptions extends EfficientNetOptions {
  classes?: number;
  decoderChannels?: readonly number[];
  generator?: Generator;
}

/**
 * smp's `Unet(encoder_name='efficientnet-bN', classes)`: keys `encoder.*`, `decoder.blocks.*`,
 * `segmentation_head.0.*`, the same as a PyTorch checkpoint of it. The decoder and head start as smp's
 * `initialize_decoder`/`initialize_head` set them (kaiming-uniform for ReLU convs, xavier-uniform head, zero biases).
 */
export class Unet extends Module {
  readonly encoder: EfficientNetEncoder;
  readonly decoder: UnetDecoder;
  readonly segmentationHead: Sequential;

  constructor(encoderName: EfficientNetName, options: UnetOptions = {}) {
    super();
    const { classes = 1, decoderChannels = [256, 128, 64, 32, 16], generator } = options;
    this.encoder = this.registerModule('encoder', new EfficientNetEncoder(encoderName, options));
    this.decoder = this.registerModule('decoder', new UnetDecoder(this.encoder.outChannels, decoderChannels));
    const last = decoderChannels[decoderChannels.length - 1];
    this.segmentationHead = this.registerModule(
      'segmentation_head',
      new Sequential([new Conv2d(last, classes, 3, { padding: 1 }), new Identity(), new Identity()]),
    );
    for (const m of this.decoder.modules()) {
      if (m instanceof Conv2d) {
        replaceValues(
          m.weight,
          kaimingUniform(m.weight.shape, { mode: 'fan_in', nonlinearity: 'relu', generator }),
        );
        if (m.bias) fill_(m.bias, 0);
      }
    }
    const head = this.segmentationHead.at(0) as Conv2d;
    replaceValues(head.weight, xavierUniform(head.weight.shape, 1, generator));
    if (head.bias) fill_(head.bias, 0);
  }

  forward(x: Tensor): Tensor {
    const [, , h, w] = x.shape;
    if (x.ndim !== 4 || x.shape[1] !== 3 || h % 32 !== 0 || w % 32 !== 0) {
      throw new RangeError(`Unet: expected an N×3×H×W input with H and W multiples of 32, got ${x}`);
    }
    const features = this.encoder.forward(x);
    const decoded = this.decoder.forward(features);
    for (const f of features.slice(1)) if (f !== decoded) f.dispose();
    const logits = this.segmentationHead.forward(decoded);
    decoded.dispose();
    return logits;
  }
}

function replaceValues(target: Tensor, values: Tensor): void {
  copyInto(target, values);
  values.dispose();
}
