import { getEngine } from '../../engine/engine.js';
import { Tensor } from '../../tensor.js';
import { allocate, bindingLimit, forEachBatchChunk, imagesPerLaunch } from './batch-chunks.js';
import {
  cached,
  depthwiseShape,
  dwKey,
  pointwiseFits,
  reducePartials,
  runGemm,
  splitCount,
  uniforms,
} from './conv-dispatch.js';
import { chooseGradWeightTile, useDepthwiseGradInput, useDepthwiseRows } from './conv-tuning.js';
import {
  DEPTHWISE_ROW,
  DEPTHWISE_WG,
  depthwiseGradInputKernel,
  depthwiseGradWeightKernel,
} from './depthwise-kernel.js';
import {
  dispatchDepthwiseRows,
  dispatchDepthwiseRowsGradWeight,
  dispatchDepthwiseScatter,
  rowsAligned,
} from './depthwise-rows.js';
import { convGradWeightSubgroups } from './grad-weight.js';
import { conv3x3GradInputPanels } from './panel-conv.js';
import { type ConvGeometry, isDepthwise } from './params.js';
import { isPointwise, pointwiseGemm, pointwiseGradWeightPartials, pointwisePanels } from './pointwise.js';
import { biasGradKernel, REDUCE_WG } from './reduce-kernel.js';

/** dL/dx: the transposed convolution of dy with the weight. */
export function conv2dGradInput(dy: Tensor, weight: Tensor, g: ConvGeometry): Tensor {
  const dx = Tensor.empty([g.batch, g.cIn, g.h, g.w], 'float32');
  if (dx.numel() === 0) return dx;
  if (isPointwise(g) && pointwiseGemm('gradInput', dy, weight, null, dx)) return dx;
  if (isPointwise(g) && pointwisePanels('gradInput', dy, weight, null, dx, bindingLimit())) return dx;
  if (conv3x3GradInputPanels(dy, weight, dx, g, bindingLimit())) return dx;
  const depthwise = isDepthwise(g);
  forEachBatchChunk(
    g,
    [
      [dy, 'output gradient'],
      [dx, 'input gradient'],
    ],
    ([dyw, dxw], c) => {
      const buffers = [weight.storage.buffer, dyw.binding, dxw.binding];
      const at = { bOffset: dyw.offset, outOffset: dxw.offset };
      const padLeft = (c.kw - 1) * c.dilationW - c.padLeft;
      const rows =
        depthwise && useDepthwiseRows() && c.cOutG === 1 && rowsAligned(dy.shape, dy.strides, dyw.offset);
      const vecOut = rowsAligned(dx.shape, dx.strides, dxw.offset);
      if (
        rows &&
        c.strideH === 1 &&
        c.strideW === 1 &&
        c.dilationH === 1 &&
        padLeft >= 0 &&
        c.padTop <= c.kh - 1
      ) {
        // At unit stride the input gradient is the forward kernel run on dy with the filter rotated by 180°.
        dispatchDepthwiseRows(
          {
            kh: c.kh,
            kw: c.kw,
            stride: [1, 1],
            dilation: [1, c.dilationW],
            padLeft,
            flip: true,
            vecOut,
            hasBias: false,
            element: 'f32',
          },
          buffers,
          uniforms(c, weight, dy, at),
          { batch: c.batch, planes: c.cIn, outH: c.h, outW: c.w },
        );
        return;
      }
      if (rows && c.dilationH === 1 && c.dilationW === 1 && c.strideH <= 2 && c.strideW <= 2) {
        dispatchDepthwiseScatter(
          {
            kh: c.kh,
            kw: c.kw,
            stride: [c.strideH, c.strideW],
            padTop: c.padTop,
            padLeft: c.padLeft,
            vecOut,
            element: 'f32',
          },
          buffers,
          uniforms(c, weight, dy, at),
          { batch: c.batch, channels: c.cIn, h: c.h, w: c.w },
        );
        return;
      }
      if (depthwise && useDepthwiseGradInput(c.strideH > 1 || c.strideW > 1)) {
        const s = depthwiseShape(c);
        const kernel = cached(`dwdx:${dwKey(s)}`, () => depthwiseGradInputKernel(s));
        const items = c.h * Math.ceil(c.w / DEPTHWISE_ROW);
        getEngine().dispatch(kernel, buffers, uniforms(c, weight, dy, { n: items, ...at }), [
          Math.ceil(items / DEPTHWISE_WG),
          c.cIn,
          c.batch,
        ]);
        return;
      }
      runGemm(
        'gradInput',
        c,
        buffers,
        uniforms(c, weight, dy, at),
        { m: c.cInG, n: c.batch * c.h * c.w, k: c.cOutG * c.kh * c.kw, z: c.groups },
        false,
      );
    },
  );
  return dx;
}

/**
 * dL/dweight: a reduction over every output pixel of the batch, split into `splits` chunks per batch chunk that
 * run in parallel and are added at the end. Every launch writes all its `splits` slabs (zeros past its pixels).
 */
export function conv2dGradWeight(dy: Tensor, x: Tensor, g: ConvGeometry): Tensor {
  const shape = [g.cOut, g.cInG, g.kh, g.kw];
  const size = shape.reduce((a, b) => a * b, 1);
  if (g.batch * g.oh * g.ow === 0) return zerosOf(shape);
  const subgroups = convGradWeightSubgroups(dy, x, g);
  if (subgroups) return subgroups;
  const batched: [Tensor, string][] = [
    [dy, 'output gradient'],
    [x, 'input'],
  ];
  const images = Math.min(g.batch, imagesPerLaunch(g, batched));
  const chunks = Math.ceil(g.batch / images);
  const engine = getEngine();
  if (
    isDepthwise(g) &&
    useDepthwiseRows() &&
    g.dilationH === 1 &&
    rowsAligned(dy.shape, dy.strides, dy.offset) &&
    rowsAligned(x.shape, x.strides, x.offset)
  ) {
    // One partial per image (each workgroup sums a whole channel plane), added up at the end.
    const partial = allocate(g.batch === 1 ? shape : [g.batch, ...shape], 'weight gradient partials');
    let done = 0;
    forEachBatchChunk(g, batched, ([dyw, xw], c) => {
      dispatchDepthwiseRowsGradWeight(
        {
          kh: c.kh,
          kw: c.kw,
          stride: [c.strideH, c.strideW],
          dilation: [1, c.dilationW],
          padLeft: c.padLeft,
          element: 'f32',
        },
        [dyw.binding, xw.binding, partial.storage.buffer],
        uniforms(c, dy, x, { aOffset: dyw.offset, bOffset: xw.offset, outOffset: done * size }),
        { batch: c.batch, channels: c.cOut, outH: c.oh, outW: c.ow },
      );
      done += c.batch;
    });
    return reducePartials(partial, g.batch, shape);
  }
  if (isDepthwise(g)) {
    const s = depthwiseShape(g);
    const segments = images * g.oh * Math.ceil(g.ow / DEPTHWISE_ROW);
    const splits = splitCount(segments, g.cOut, 2 * DEPTHWISE_WG);
    const chunk = Math.ceil(segments / splits);
    const slabs = chunks * splits;
    const partial = allocate(slabs === 1 ? shape : [slabs, ...shape], 'weight gradient partials');
    const kernel = cached(`dwdw:${dwKey(s)}`, () => depthwiseGradWeightKernel(s));
    forEachBatchChunk(g, batched, ([dyw, xw], c, index) => {
      engine.dispatch(
        kernel,
        [dyw.binding, xw.binding, partial.storage.buffer],
        uniforms(c, dy, x, {
          kChunk: chunk,
          aOffset: dyw.offset,
          bOffset: xw.offset,
          outOffset: index * splits * size,
        }),
        [c.cOut, splits],
      );
    });
    return reducePartials(partial, slabs, shape);
  }
  if (pointwiseFits(g, [dy, x])) {
    // Split the pixel sum into equal chunks (a power of two dividing H·W, each at least 256 pixels long) so
    // that images × chunks products run in parallel; their sum is the gradient.
    let splits = 1;
    const hw = g.h * g.w;
    while (g.batch * splits * 2 <= 16 && hw % (splits * 2) === 0 && hw / (splits * 2) >= 256) splits *= 2;
    const slabs = g.batch * splits;
    const partial = allocate(slabs === 1 ? shape : [slabs, ...shape], 'weight gradient partials');
    pointwiseGradWeightPartials(dy, x, splits, partial);
    return reducePartials(partial, slabs, shape);
  }
  const m = g.cOutG;
  const n = g.cInG * g.kh * g.kw;
  const pixels = images * g.oh * g.ow;
  const tile = chooseGradWeightTile(m);
  const blocks = Math.ceil(m / (tile.wgY * tile.tm)) * Math.ceil(n / (tile.wgX * tile.tn)) * g.groups;
  let splits = splitCount(pixels, blocks, 16 * tile.tk);
  const chunk = Math.ceil(pixels / splits / tile.tk) * tile.tk;
  splits = Math.ceil(pixels / chunk);
  const slabs = chunks * splits;
  const partial = allocate(slabs === 1 ? shape : [slabs, ...shape], 'weight gradient partials');
  forEachBatchChunk(g, batched, ([dyw, xw], c, index) => {
    runGemm(
      'gradWeight',
      c,
      [dyw.binding, xw.binding, partial.storage.buffer],
      uniforms(c, dy, x, {
        kChunk: chunk,
        aOffset: dyw.offset,
        bOffset: xw.offset,
        outOffset: index * splits * size,
      }),
      { m, n, k: c.batch * c.oh * c.ow, z: g.groups * splits },
      false,
    );
  });
  return reducePartials(partial, slabs, shape);
}

/** dL/dbias: dy summed over batch and pixels, in parallel chunks per channel. */
export function conv2dGradBias(dy: Tensor, g: ConvGeometry): Tensor {
  if (g.batch * g.oh * g.ow === 0) return zerosOf([g.cOut]);
  const batched: [Tensor, string][] = [[dy, 'output gradient']];
  const images = Math.min(g.batch, imagesPerLaunch(g, batched));
  const chunks = Math.ceil(g.batch / images);
  const pixels = images * g.oh * g.ow;
  const splits = splitCount(pixels, g.cOut, 4 * REDUCE_WG);
  const chunk = Math.ceil(pixels / splits);
  const slabs = chunks * splits;
  const partial = Tensor.empty(slabs === 1 ? [g.cOut] : [slabs, g.cOut], 'float32');
  forEachBatchChunk(g, batched, ([dyw], c, index) => {
    getEngine().dispatch(
      biasGradKernel,
      [dyw.binding, partial.storage.buffer],
      uniforms(c, dy, null, { kChunk: chunk, aOffset: dyw.offset, outOffset: index * splits * g.cOut }),
      [c.cOut, splits],
    );
  });
  return reducePartials(partial, slabs, [g.cOut]);
}

export function zerosOf(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromData(new Float32Array(n), shape);
}
