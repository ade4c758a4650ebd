/** Padding as PyTorch takes it: one number, [padH, padW], F.pad's [left, right, top, bottom], or a mode. */
export type Conv2dPadding =
  | number
  | readonly [number, number]
  | readonly [number, number, number, number]
  | 'valid'
  | 'same';

export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  padding?: Conv2dPadding;
  dilation?: number | readonly [number, number];
  groups?: number;
}

/** Everything a conv2d kernel needs to know about shapes, fully resolved. */
export interface ConvGeometry {
  batch: number;
  cIn: number;
  h: number;
  w: number;
  cOut: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  groups: number;
  /** Input channels per group. */
  cInG: number;
  /** Output channels per group. */
  cOutG: number;
}

function pair(v: number | readonly [number, number], what: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= 1)) {
    throw new RangeError(
      `conv2d: ${what} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`,
    );
  }
  return p;
}

/** [left, right, top, bottom] */
function resolvePadding(
  padding: Conv2dPadding,
  kh: number,
  kw: number,
  dilation: [number, number],
  stride: [number, number],
): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new RangeError("conv2d: padding 'same' needs stride 1 (as in PyTorch); pass explicit padding");
    }
    // PyTorch puts the odd pixel of an even total on the right/bottom.
    const th = dilation[0] * (kh - 1);
    const tw = dilation[1] * (kw - 1);
    return [Math.floor(tw / 2), tw - Math.floor(tw / 2), Math.floor(th / 2), th - Math.floor(th / 2)];
  }
  const p: number[] =
    typeof padding === 'number'
      ? [padding, padding, padding, padding]
      : padding.length === 2
        ? [padding[1], padding[1], padding[0], padding[0]]
        : padding.length === 4
          ? [...padding]
          : [];
  if (p.length !== 4 || !p.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new RangeError(
      `conv2d: padding must be a non-negative integer, [padH, padW] or [left, right, top, bottom], got ${JSON.stringify(padding)}`,
    );
  }
  return [p[0], p[1], p[2], p[3]];
}

/** Checks shapes and options the way PyTorch does and works out the output size. */
export function convGeometry(
  xShape: readonly number[],
  wShape: readonly number[],
  biasShape: readonly number[] | null,
  options: Conv2dOptions,
): ConvGeometry {
  if (xShape.length !== 4) throw new RangeError(`conv2d: input must be N×C×H×W, got shape [${xShape}]`);
  if (wShape.length !== 4)
    throw new RangeError(`conv2d: weight must be Cout×Cin/groups×kH×kW, got shape [${wShape}]`);
  const [batch, cIn, h, w] = xShape;
  const [cOut, cInG, kh, kw] = wShape;
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1)
    throw new RangeError(`conv2d: groups must be a positive integer, got ${groups}`);
  if (cIn % groups !== 0 || cOut % groups !== 0) {
    throw new RangeError(
      `conv2d: groups ${groups} must divide input channels ${cIn} and output channels ${cOut}`,
    );
  }
  if (cInG !== cIn / groups) {
    throw new RangeError(
      `conv2d: weight [${wShape}] expects ${cInG * groups} input channels with groups ${groups}, input has ${cIn}`,
    );
  }
  if (biasShape && (biasShape.length !== 1 || biasShape[0] !== cOut)) {
    throw new RangeError(`conv2d: bias must have shape [${cOut}], got [${biasShape}]`);
  }
  const stride = pair(options.stride ?? 1, 'stride');
  const dilation = pair(options.dilation ?? 1, 'dilation');
  const [padLeft, padRight, padTop, padBottom] = resolvePadding(
    options.padding ?? 0,
    kh,
    kw,
    dilation,
    stride,
  );
  const spanH = dilation[0] * (kh - 1) + 1;
  const spanW = dilation[1] * (kw - 1) + 1;
  const paddedH = h + padTop + padBottom;
  const paddedW = w + padLeft + padRight;
  if (paddedH < spanH || paddedW < spanW) {
    throw new RangeError(
      `conv2d: padded input ${paddedH}×${paddedW} is smaller than the dilated kernel ${spanH}×${spanW}`,
    );
  }
  return {
    batch,
    cIn,
    h,
    w,
    cOut,
    kh,
    kw,
    oh: Math.floor((paddedH - spanH) / stride[0]) + 1,
    ow: Math.floor((paddedW - spanW) / stride[1]) + 1,
    strideH: stride[0],
    strideW: stride[1],
    dilationH: dilation[0],
    dilationW: dilation[1],
    padTop,
    padBottom,
    padLeft,
    padRight,
    groups,
    cInG,
    cOutG: cOut / groups,
  };
}

/** Multiply-adds times two: the FLOP count of the forward pass (and of each of the two backward GEMMs). */
export function conv2dFlops(g: ConvGeometry): number {
  return 2 * g.batch * g.cOut * g.oh * g.ow * g.cInG * g.kh * g.kw;
}

/** groups == Cin and each group has one input channel: the depthwise kernels apply. */
export function isDepthwise(g: ConvGeometry): boolean {
  return g.groups > 1 && g.cInG === 1;
}
