import { dropPath, seGate, type Tensor } from '@nephron/tensor';
import { Swish } from '../layers/activation.js';
import { BatchNorm2d } from '../layers/batchnorm.js';
import { ModuleList } from '../layers/container.js';
import { Conv2d, staticSamePadding } from '../layers/conv.js';
import { convBnAct } from '../layers/conv-bn-act.js';
import { Module } from '../module/module.js';
import {
  B0_STAGES,
  BN_EPS,
  BN_MOMENTUM,
  DROP_CONNECT_RATE,
  EFFICIENTNET_NAMES,
  EFFICIENTNET_PARAMS,
  type EfficientNetName,
  roundFilters,
  roundRepeats,
  SE_RATIO,
  SMP_EFFICIENTNET_STAGES,
} from './efficientnet-config.js';

export interface MBConvArgs {
  kernel: number;
  stride: number;
  expand: number;
  inFilters: number;
  outFilters: number;
  /** The input size this block sees at the model's native resolution; fixes its "SAME" padding. */
  imageSize: number;
}

const bn = (channels: number) => new BatchNorm2d(channels, { eps: BN_EPS, momentum: BN_MOMENTUM });

/**
 * Mobile inverted bottleneck with squeeze-and-excitation (lukemelas' MBConvBlock, module names kept):
 * [1×1 expand + BN + swish] → depthwise k×k + BN + swish → SE gate → 1×1 project + BN, plus the input when the
 * shape is unchanged (with drop-connect in training).
 */
export class MBConvBlock extends Module {
  readonly expandConv: Conv2d | null;
  readonly bn0: BatchNorm2d | null;
  readonly depthwiseConv: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly seReduce: Conv2d;
  readonly seExpand: Conv2d;
  readonly projectConv: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly swish: Swish;

  constructor(readonly args: MBConvArgs) {
    super();
    const { kernel, stride, expand, inFilters, outFilters, imageSize } = args;
    const mid = inFilters * expand;
    if (expand !== 1) {
      this.expandConv = this.registerModule('_expand_conv', new Conv2d(inFilters, mid, 1, { bias: false }));
      this.bn0 = this.registerModule('_bn0', bn(mid));
    } else {
      this.expandConv = null;
      this.bn0 = null;
    }
    this.depthwiseConv = this.registerModule(
      '_depthwise_conv',
      new Conv2d(mid, mid, kernel, {
        stride,
        groups: mid,
        bias: false,
        padding: staticSamePadding(imageSize, kernel, stride),
      }),
    );
    this.bn1 = this.registerModule('_bn1', bn(mid));
    const squeezed = Math.max(1, Math.floor(inFilters * SE_RATIO));
    this.seReduce = this.registerModule('_se_reduce', new Conv2d(mid, squeezed, 1));
    this.seExpand = this.registerModule('_se_expand', new Conv2d(squeezed, mid, 1));
    this.projectConv = this.registerModule('_project_conv', new Conv2d(mid, outFilters, 1, { bias: false }));
    this.bn2 = this.registerModule('_bn2', bn(outFilters));
    this.swish = this.registerModule('_swish', new Swish());
  }

  get hasSkip(): boolean {
    return this.args.stride === 1 && this.args.inFilters === this.args.outFilters;
  }

  forward(inputs: Tensor, dropConnectRate = 0): Tensor {
    // Each intermediate is released once the next op has read it: autograd holds what backward needs, and
    // inference then keeps about two activations alive instead of every one the block made.
    const expanded =
      this.expandConv && this.bn0 ? convBnAct(this.expandConv, this.bn0, inputs, 'silu') : inputs;
    const x = convBnAct(this.depthwiseConv, this.bn1, expanded, 'silu');
    if (expanded !== inputs) expanded.dispose();
    const pooled = x.mean([2, 3], true);
    const reduced = this.seReduce.forward(pooled);
    pooled.dispose();
    const activated = reduced.silu();
    reduced.dispose();
    const squeezed = this.seExpand.forward(activated);
    activated.dispose();
    const gated = seGate(x, squeezed);
    x.dispose();
    squeezed.dispose();
    const projected = convBnAct(this.projectConv, this.bn2, gated, 'identity');
    gated.dispose();
    if (!this.hasSkip) return projected;
    if (dropConnectRate > 0 && this.training) {
      const dropped = dropPath(projected, dropConnectRate, true);
      projected.dispose();
      const out = dropped.add(inputs);
      dropped.dispose();
      return out;
    }
    const out = projected.add(inputs);
    projected.dispose();
    return out;
  }
}

export interface EfficientNetOptions {
  /** Drop-connect rate of the last block (the rate grows linearly from 0); default 0.2, 0 disables it. */
  dropConnectRate?: number;
  /** The size static "SAME" padding is computed for (default: the model's native resolution). */
  imageSize?: number;
}

/**
 * EfficientNet as smp's encoder: the stem, the MBConv blocks, and the unused head conv and BN (they are in smp's
 * state dict), with keys `_conv_stem`, `_bn0`, `_blocks.{i}`, `_conv_head`, `_bn1`. `forward` returns smp's six
 * feature maps: the input, the stem output (/2) and the outputs after each of smp's four stage ends.
 */
export class EfficientNetEncoder extends Module {
  readonly convStem: Conv2d;
  readonly bn0: BatchNorm2d;
  readonly blocks: ModuleList<MBConvBlock>;
  readonly convHead: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly dropConnectRate: number;
  readonly stageIdxs: readonly number[];
  readonly outChannels: readonly number[];

  constructor(
    readonly name: EfficientNetName,
    options: EfficientNetOptions = {},
  ) {
    super();
    if (!EFFICIENTNET_NAMES.includes(name)) {
      throw new Error(`unknown EfficientNet "${name}"; expected one of ${EFFICIENTNET_NAMES.join(', ')}`);
    }
    const { width, depth, resolution } = EFFICIENTNET_PARAMS[name];
    this.dropConnectRate = options.dropConnectRate ?? DROP_CONNECT_RATE;
    let size = options.imageSize ?? resolution;
    const stem = roundFilters(32, width);
    this.convStem = this.registerModule(
      '_conv_stem',
      new Conv2d(3, stem, 3, { stride: 2, bias: false, padding: staticSamePadding(size, 3, 2) }),
    );
    this.bn0 = this.registerModule('_bn0', bn(stem));
    size = Math.ceil(size / 2);
    const blocks: MBConvBlock[] = [];
    for (const stage of B0_STAGES) {
      const inFilters = roundFilters(stage.inFilters, width);
      const outFilters = roundFilters(stage.outFilters, width);
      const common = { kernel: stage.kernel, expand: stage.expand, outFilters };
      blocks.push(new MBConvBlock({ ...common, stride: stage.stride, inFilters, imageSize: size }));
      size = Math.ceil(size / stage.stride);
      for (let r = 1; r < roundRepeats(stage.repeats, depth); r++) {
        blocks.push(new MBConvBlock({ ...common, stride: 1, inFilters: outFilters, imageSize: size }));
      }
    }
    this.blocks = this.registerModule('_blocks', new ModuleList(blocks));
    const headIn = roundFilters(320, width);
    const headOut = roundFilters(1280, width);
    this.convHead = this.registerModule('_conv_head', new Conv2d(headIn, headOut, 1, { bias: false }));
    this.bn1 = this.registerModule('_bn1', bn(headOut));
    this.registerModule('_swish', new Swish());
    this.stageIdxs = SMP_EFFICIENTNET_STAGES[name].stageIdxs;
    this.outChannels = SMP_EFFICIENTNET_STAGES[name].outChannels;
  }

  /** [input, /2, /4, /8, /16, /32] feature maps, as smp's `EfficientNetEncoder.forward`. */
  forward(x: Tensor): Tensor[] {
    const features = [x];
    let y = convBnAct(this.convStem, this.bn0, x, 'silu');
    features.push(y);
    const total = this.blocks.length;
    let start = 0;
    for (const end of this.stageIdxs) {
      for (let i = start; i < end; i++) {
        const next = this.blocks.at(i).forward(y, (this.dropConnectRate * i) / total);
        // Block outputs inside a stage are read once, by the next block; the stage ends are features.
        if (y !== features[features.length - 1]) y.dispose();
        y = next;
      }
      features.push(y);
      start = end;
    }
    return features;
  }
}
