import { type Conv2dPadding, conv2d, type Generator, type Tensor } from '@nephron/tensor';
import { defaultBias, defaultWeight } from '../init/init.js';
import { Module } from '../module/module.js';

export interface Conv2dOptions {
  stride?: number | [number, number];
  /** One number, [padH, padW], or F.pad's [left, right, top, bottom] for asymmetric padding. */
  padding?: Conv2dPadding;
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
  generator?: Generator;
}

/**
 * A 2-D convolution layer, as `torch.nn.Conv2d`: `weight` [out, in/groups, kH, kW] and an optional `bias`,
 * initialised as PyTorch does (kaiming-uniform with a = √5).
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: number | [number, number];
  readonly padding: Conv2dPadding;
  readonly dilation: number | [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | [number, number],
    options: Conv2dOptions = {},
  ) {
    super();
    const { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true, generator } = options;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new RangeError(
        `Conv2d: ${inChannels} in and ${outChannels} out channels are not divisible by groups ${groups}`,
      );
    }
    this.kernelSize = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    this.stride = stride;
    this.padding = padding;
    this.dilation = dilation;
    this.groups = groups;
    const shape = [outChannels, inChannels / groups, ...this.kernelSize];
    this.weight = this.registerParameter('weight', defaultWeight(shape, generator));
    this.bias = this.registerParameter('bias', bias ? defaultBias(shape, generator) : null);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

/**
 * TensorFlow's "SAME" padding for a fixed input size, as [left, right, top, bottom]: the output is
 * ⌈size / stride⌉ and the odd pixel of an odd total goes right/bottom. EfficientNet (lukemelas, smp) computes it
 * once for the model's native resolution and keeps it whatever the real input size.
 */
export function staticSamePadding(
  imageSize: number | [number, number],
  kernelSize: number,
  stride: number,
  dilation = 1,
): [number, number, number, number] {
  const [ih, iw] = typeof imageSize === 'number' ? [imageSize, imageSize] : imageSize;
  const total = (size: number) =>
    Math.max((Math.ceil(size / stride) - 1) * stride + (kernelSize - 1) * dilation + 1 - size, 0);
  const ph = total(ih);
  const pw = total(iw);
  return [Math.floor(pw / 2), pw - Math.floor(pw / 2), Math.floor(ph / 2), ph - Math.floor(ph / 2)];
}
