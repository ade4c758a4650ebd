import { getEngine } from '../../engine/engine.js';
import { recordOp, Tensor } from '../../tensor.js';
import { autocastCall } from '../precision/autocast.js';
import { commonFloatDtype, viaFloat32 } from '../precision/via-float32.js';
import { bindingLimit, checkBindable, forEachBatchChunk } from './batch-chunks.js';
import { cached, depthwiseShape, dwKey, runGemm, uniforms } from './conv-dispatch.js';
import { useDepthwiseRows } from './conv-tuning.js';
import { conv2dGradBias, conv2dGradInput, conv2dGradWeight } from './conv2d-backward.js';
import {
  DEPTHWISE_FWD_COLS,
  DEPTHWISE_FWD_ROWS,
  DEPTHWISE_WG,
  depthwiseForwardKernel,
} from './depthwise-kernel.js';
import { dispatchDepthwiseRows, rowsAligned } from './depthwise-rows.js';
import { conv3x3ForwardPanels } from './panel-conv.js';
import { type Conv2dOptions, type ConvGeometry, convGeometry, isDepthwise } from './params.js';
import { isPointwise, pointwiseGemm, pointwisePanels } from './pointwise.js';

/** Runs the forward convolution on float32 operands with the kernel the tuning picks for this shape and adapter. */
export function conv2dForward(x: Tensor, weight: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  const out = Tensor.empty([g.batch, g.cOut, g.oh, g.ow], 'float32');
  if (out.numel() === 0) return out;
  if (isPointwise(g) && pointwiseGemm('forward', x, weight, bias, out)) return out;
  if (isPointwise(g) && pointwisePanels('forward', x, weight, bias, out, bindingLimit())) return out;
  if (conv3x3ForwardPanels(x, weight, bias, out, g, bindingLimit())) return out;
  const depthwise = isDepthwise(g);
  forEachBatchChunk(
    g,
    [
      [x, 'input'],
      [out, 'output'],
    ],
    ([xw, ow], c) => {
      const buffers = [weight.storage.buffer, xw.binding];
      if (bias) buffers.push(bias.storage.buffer);
      buffers.push(ow.binding);
      const at = { bOffset: xw.offset, outOffset: ow.offset };
      if (
        depthwise &&
        useDepthwiseRows() &&
        c.dilationH === 1 &&
        rowsAligned(x.shape, x.strides, xw.offset)
      ) {
        dispatchDepthwiseRows(
          {
            kh: c.kh,
            kw: c.kw,
            stride: [c.strideH, c.strideW],
            dilation: [c.dilationH, c.dilationW],
            padLeft: c.padLeft,
            flip: false,
            vecOut: rowsAligned(out.shape, out.strides, ow.offset),
            hasBias: bias !== null,
            element: 'f32',
          },
          buffers,
          uniforms(c, weight, x, at, bias),
          { batch: c.batch, planes: c.cOut, outH: c.oh, outW: c.ow },
        );
        return;
      }
      if (depthwise) {
        const s = depthwiseShape(c);
        const kernel = cached(`dw:${dwKey(s)}:${bias !== null}`, () =>
          depthwiseForwardKernel(s, bias !== null),
        );
        const items = Math.ceil(c.oh / DEPTHWISE_FWD_ROWS) * Math.ceil(c.ow / DEPTHWISE_FWD_COLS);
        getEngine().dispatch(kernel, buffers, uniforms(c, weight, x, { n: items, ...at }, bias), [
          Math.ceil(items / DEPTHWISE_WG),
          c.cOut,
          c.batch,
        ]);
        return;
      }
      runGemm(
        'forward',
        c,
        buffers,
        uniforms(c, weight, x, at, bias),
        { m: c.cOutG, n: c.batch * c.oh * c.ow, k: c.cInG * c.kh * c.kw, z: c.groups },
        bias !== null,
      );
    },
  );
  return out;
}

function checkOperand(t: Tensor, what: string, batched: boolean): void {
  t.assertAlive();
  // Batched operands are split into windows that fit; weight and bias are bound whole.
  if (!batched) checkBindable(t, what);
}

/**
 * 2-D convolution of an N×C×H×W input with a Cout×(C/groups)×kH×kW weight, as `torch.nn.functional.conv2d`.
 * `padding` also takes F.pad's [left, right, top, bottom] for asymmetric ("static same") padding.
 * Depthwise convolutions (groups = C, one input channel per group) get their own kernels; everything else runs
 * as an implicit GEMM. Inputs may be views with any strides.
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: Conv2dOptions = {},
): Tensor {
  const autocasted = autocastCall(
    [x, weight, bias] as const,
    (xh, wh, bh) => conv2d(xh, wh, bh, options),
    [1, 2],
  );
  if (autocasted) return autocasted;
  checkOperand(x, 'input', true);
  checkOperand(weight, 'weight', false);
  if (bias) checkOperand(bias, 'bias', false);
  const dtype = commonFloatDtype('conv2d', [
    [x, 'input'],
    [weight, 'weight'],
    [bias, 'bias'],
  ]);
  const g = convGeometry(x.shape, weight.shape, bias?.shape ?? null, options);
  // The kernels read and write float32: float16 operands are widened per call and results rounded once.
  const out = viaFloat32([x, weight, bias] as const, dtype, (xs, ws, bs) => conv2dForward(xs, ws, bs, g));
  return recordOp(
    'conv2d',
    out,
    [x, weight, bias],
    (dy, [xs, ws], needs) => {
      return [
        needs[0] ? viaFloat32([dy, ws] as const, dtype, (d, w) => conv2dGradInput(d, w, g)) : null,
        needs[1] ? viaFloat32([dy, xs] as const, dtype, (d, i) => conv2dGradWeight(d, i, g)) : null,
        needs[2] ? viaFloat32([dy] as const, dtype, (d) => conv2dGradBias(d, g)) : null,
      ];
    },
    [x, weight],
  );
}
