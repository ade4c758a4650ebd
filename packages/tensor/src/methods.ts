import type { DType } from './dtype.js';
import {
  add,
  div,
  eq,
  ge,
  gt,
  le,
  lt,
  maximum,
  minimum,
  mul,
  ne,
  type Operand,
  pow,
  sub,
} from './ops/elementwise/binary.js';
import {
  abs,
  exp,
  log,
  neg,
  relu,
  rsqrt,
  sigmoid,
  silu,
  sqrt,
  square,
  tanh,
} from './ops/elementwise/unary.js';
import { cast, clamp } from './ops/elementwise/where.js';
import { chunk, split, unbind } from './ops/join/split.js';
import { matmul } from './ops/matmul/matmul.js';
import { argmax, argmin, max, min, type ValuesIndices } from './ops/reduce/minmax.js';
import { mean, sum } from './ops/reduce/sum.js';
import { std, variance } from './ops/reduce/variance.js';
import { logSoftmax, softmax } from './ops/softmax/softmax.js';
import {
  clone,
  contiguous,
  expand,
  flatten,
  flip,
  narrow,
  permute,
  reshape,
  slice,
  squeeze,
  transpose,
  unsqueeze,
  view,
} from './ops/views.js';
import { Tensor } from './tensor.js';

/** PyTorch-style methods on Tensor; each one is the function of the same name with `this` first. */
declare module './tensor.js' {
  interface Tensor {
    add(other: Operand): Tensor;
    sub(other: Operand): Tensor;
    mul(other: Operand): Tensor;
    div(other: Operand): Tensor;
    pow(exponent: Operand): Tensor;
    maximum(other: Operand): Tensor;
    minimum(other: Operand): Tensor;
    eq(other: Operand): Tensor;
    ne(other: Operand): Tensor;
    lt(other: Operand): Tensor;
    le(other: Operand): Tensor;
    gt(other: Operand): Tensor;
    ge(other: Operand): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    square(): Tensor;
    relu(): Tensor;
    sigmoid(): Tensor;
    silu(): Tensor;
    tanh(): Tensor;
    clamp(min?: number, max?: number): Tensor;
    to(dtype: DType): Tensor;
    sum(dim?: number | readonly number[], keepdim?: boolean): Tensor;
    mean(dim?: number | readonly number[], keepdim?: boolean): Tensor;
    var(dim?: number | readonly number[], unbiased?: boolean, keepdim?: boolean): Tensor;
    std(dim?: number | readonly number[], unbiased?: boolean, keepdim?: boolean): Tensor;
    max(): Tensor;
    max(dim: number, keepdim?: boolean): ValuesIndices;
    min(): Tensor;
    min(dim: number, keepdim?: boolean): ValuesIndices;
    argmax(dim?: number, keepdim?: boolean): Tensor;
    argmin(dim?: number, keepdim?: boolean): Tensor;
    split(sizeOrSections: number | readonly number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[];
    unbind(dim?: number): Tensor[];
    matmul(other: Tensor): Tensor;
    softmax(dim: number): Tensor;
    logSoftmax(dim: number): Tensor;
    reshape(...shape: number[] | [readonly number[]]): Tensor;
    view(...shape: number[] | [readonly number[]]): Tensor;
    permute(...dims: number[] | [readonly number[]]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    slice(dim: number, start?: number, end?: number): Tensor;
    expand(...shape: number[] | [readonly number[]]): Tensor;
    squeeze(dim?: number): Tensor;
    unsqueeze(dim: number): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    flip(dims: readonly number[]): Tensor;
    contiguous(): Tensor;
    clone(): Tensor;
  }
}

function dims(args: number[] | [readonly number[]]): number[] {
  return Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

const proto = Tensor.prototype;
proto.add = function (o) {
  return add(this, o);
};
proto.sub = function (o) {
  return sub(this, o);
};
proto.mul = function (o) {
  return mul(this, o);
};
proto.div = function (o) {
  return div(this, o);
};
proto.pow = function (o) {
  return pow(this, o);
};
proto.maximum = function (o) {
  return maximum(this, o);
};
proto.minimum = function (o) {
  return minimum(this, o);
};
proto.eq = function (o) {
  return eq(this, o);
};
proto.ne = function (o) {
  return ne(this, o);
};
proto.lt = function (o) {
  return lt(this, o);
};
proto.le = function (o) {
  return le(this, o);
};
proto.gt = function (o) {
  return gt(this, o);
};
proto.ge = function (o) {
  return ge(this, o);
};
proto.neg = function () {
  return neg(this);
};
proto.abs = function () {
  return abs(this);
};
proto.exp = function () {
  return exp(this);
};
proto.log = function () {
  return log(this);
};
proto.sqrt = function () {
  return sqrt(this);
};
proto.rsqrt = function () {
  return rsqrt(this);
};
proto.square = function () {
  return square(this);
};
proto.relu = function () {
  return relu(this);
};
proto.sigmoid = function () {
  return sigmoid(this);
};
proto.silu = function () {
  return silu(this);
};
proto.tanh = function () {
  return tanh(this);
};
proto.clamp = function (min, max) {
  return clamp(this, min, max);
};
proto.to = function (dtype) {
  return dtype === this.dtype ? contiguous(this) : cast(this, dtype);
};
proto.sum = function (dim, keepdim) {
  return sum(this, dim, keepdim);
};
proto.mean = function (dim, keepdim) {
  return mean(this, dim, keepdim);
};
proto.var = function (dim, unbiased, keepdim) {
  return variance(this, dim, unbiased, keepdim);
};
proto.std = function (dim, unbiased, keepdim) {
  return std(this, dim, unbiased, keepdim);
};
proto.max = function (this: Tensor, dim?: number, keepdim?: boolean) {
  return (dim === undefined ? max(this) : max(this, dim, keepdim)) as never;
} as Tensor['max'];
proto.min = function (this: Tensor, dim?: number, keepdim?: boolean) {
  return (dim === undefined ? min(this) : min(this, dim, keepdim)) as never;
} as Tensor['min'];
proto.argmax = function (dim, keepdim) {
  return argmax(this, dim, keepdim);
};
proto.argmin = function (dim, keepdim) {
  return argmin(this, dim, keepdim);
};
proto.split = function (sizes, dim) {
  return split(this, sizes, dim);
};
proto.chunk = function (chunks, dim) {
  return chunk(this, chunks, dim);
};
proto.unbind = function (dim) {
  return unbind(this, dim);
};
proto.matmul = function (other) {
  return matmul(this, other);
};
proto.softmax = function (dim) {
  return softmax(this, dim);
};
proto.logSoftmax = function (dim) {
  return logSoftmax(this, dim);
};
proto.reshape = function (...s) {
  return reshape(this, dims(s));
};
proto.view = function (...s) {
  return view(this, dims(s));
};
proto.permute = function (...s) {
  return permute(this, dims(s));
};
proto.transpose = function (a, b) {
  return transpose(this, a, b);
};
proto.narrow = function (d, s, l) {
  return narrow(this, d, s, l);
};
proto.slice = function (d, s, e) {
  return slice(this, d, s, e);
};
proto.expand = function (...s) {
  return expand(this, dims(s));
};
proto.squeeze = function (d) {
  return squeeze(this, d);
};
proto.unsqueeze = function (d) {
  return unsqueeze(this, d);
};
proto.flip = function (d) {
  return flip(this, d);
};
proto.flatten = function (s, e) {
  return flatten(this, s, e);
};
proto.contiguous = function () {
  return contiguous(this);
};
proto.clone = function () {
  return clone(this);
};
