import { runBackward } from './autograd/backward.js';
import { isGradEnabled } from './autograd/grad-mode.js';
import { type BackwardFn, type Edge, Node } from './autograd/node.js';
import {
  BYTES_PER_ELEMENT,
  type DType,
  fromHalfBits,
  inferDType,
  isFloat,
  type TensorData,
  toHalfBits,
} from './dtype.js';
import { getEngine } from './engine/engine.js';
import { registerTensorClass, trackTensor, untrackTensor } from './scope.js';
import { contiguousStrides, formatShape, isContiguous, numel, type Shape } from './shape.js';
import { Storage } from './storage.js';

let nextId = 1;

/**
 * An n-dimensional array on the GPU: a view (shape, strides, offset in elements) of a shared {@link Storage}.
 * Memory is released by `dispose()` or by the enclosing `tidy()`, never by the garbage collector.
 */
export class Tensor {
  readonly id = nextId++;
  /** Whether gradients flow to this tensor. Leaves with `requiresGrad` collect them in `.grad`. */
  requiresGrad = false;
  /** The accumulated gradient of a leaf, owned by this tensor. */
  grad: Tensor | null = null;
  /** The operation that produced this tensor, if autograd recorded one. */
  gradFn: Node | null = null;
  name?: string;
  private disposed = false;

  constructor(
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    readonly offset: number,
    readonly dtype: DType,
  ) {
    storage.engine.liveTensors++;
    trackTensor(this);
  }

  // ---- creation -------------------------------------------------------------------------------------------------

  /** A tensor with uninitialised contents. */
  static empty(shape: Shape, dtype: DType = 'float32'): Tensor {
    checkShape(shape);
    const engine = getEngine();
    if (dtype === 'float16' && !engine.hasF16) {
      throw new Error('nephron: float16 tensors need the shader-f16 feature, which this device lacks');
    }
    const storage = Storage.allocate(engine, numel(shape) * BYTES_PER_ELEMENT[dtype]);
    return new Tensor(storage, [...shape], contiguousStrides(shape), 0, dtype);
  }

  /** Uploads data; `shape` defaults to 1-D. */
  static fromData(data: TensorData, shape?: Shape, dtype?: DType): Tensor {
    const dt = dtype ?? inferDType(data);
    const sh = shape ?? [data.length];
    if (numel(sh) !== data.length) {
      throw new RangeError(
        `tensor data has ${data.length} elements but shape ${formatShape(sh)} needs ${numel(sh)}`,
      );
    }
    const t = Tensor.empty(sh, dt);
    t.storage.engine.write(t.storage.buffer, 0, encode(data, dt));
    return t;
  }

  // ---- shape ----------------------------------------------------------------------------------------------------

  get ndim(): number {
    return this.shape.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  numel(): number {
    return numel(this.shape);
  }

  size(dim?: number): number | readonly number[] {
    if (dim === undefined) return this.shape;
    return this.shape[dim < 0 ? dim + this.shape.length : dim];
  }

  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  toString(): string {
    return `Tensor(${this.name ?? `#${this.id}`}, ${formatShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  /** A new view of the same storage. The view holds its own reference, so either may be disposed first. */
  asView(shape: Shape, strides: readonly number[], offset: number): Tensor {
    this.assertAlive();
    return new Tensor(this.storage.retain(), [...shape], [...strides], offset, this.dtype);
  }

  /** Another handle on the same data and graph position, for saving tensors for backward. */
  retain(): Tensor {
    const t = this.asView(this.shape, this.strides, this.offset);
    untrackTensor(t);
    return t;
  }

  // ---- reading --------------------------------------------------------------------------------------------------

  /** Reads the tensor back (row-major). float16 reads as Float32Array, bool as Uint8Array. */
  async toArray(): Promise<Float32Array | Int32Array | Uint32Array | Uint8Array> {
    this.assertAlive();
    const src = this.isContiguous() ? this : contiguousCopy(this);
    const n = this.numel();
    const bpe = BYTES_PER_ELEMENT[this.dtype];
    const bytes = await src.storage.engine.read(src.storage.buffer, src.offset * bpe, n * bpe);
    if (src !== this) src.dispose();
    return decode(bytes, this.dtype, n);
  }

  /** Reads a one-element tensor as a number. */
  async item(): Promise<number> {
    if (this.numel() !== 1)
      throw new RangeError(`item() needs a one-element tensor, got shape ${formatShape(this.shape)}`);
    return (await this.toArray())[0];
  }

  /** Nested arrays, for printing and tests. */
  async toNested(): Promise<unknown> {
    const flat = Array.from(await this.toArray());
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return flat[offset];
      const stride = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  // ---- memory ---------------------------------------------------------------------------------------------------

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    untrackTensor(this);
    this.storage.release();
    this.storage.engine.liveTensors--;
    if (this.gradFn) {
      this.gradFn.release();
      this.gradFn = null;
    }
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  assertAlive(): void {
    if (this.disposed) throw new Error(`nephron: ${this.toString()} was used after dispose()`);
  }

  // ---- autograd -------------------------------------------------------------------------------------------------

  /** Marks a leaf as wanting gradients; returns this for chaining. */
  requiresGrad_(value = true): this {
    if (this.gradFn && !value) throw new Error('nephron: requiresGrad_(false) on a non-leaf; use detach()');
    if (value && !isFloat(this.dtype))
      throw new TypeError(`only floating tensors can require gradients, ${this} is ${this.dtype}`);
    this.requiresGrad = value;
    return this;
  }

  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** A view of the same data cut off from the graph. */
  detach(): Tensor {
    return this.asView(this.shape, this.strides, this.offset);
  }

  /** Computes gradients of this tensor (a scalar, or with an explicit upstream `grad`) for every leaf. */
  backward(grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
    if (!this.requiresGrad) throw new Error(`nephron: backward() on ${this}, which does not require grad`);
    let g: Tensor;
    if (grad) {
      g = grad.retain();
    } else {
      if (this.numel() !== 1)
        throw new RangeError(`backward() without a gradient needs a scalar, got ${formatShape(this.shape)}`);
      g = fill(this.shape, 1, this.dtype);
      untrackTensor(g);
    }
    if (!this.gradFn) {
      this.accumulateGrad(g);
      return;
    }
    runBackward(this, g, options);
  }

  /** Adds `g` into `.grad`, taking ownership of `g`. */
  accumulateGrad(g: Tensor): void {
    untrackTensor(g);
    let grad = g;
    if (grad.shape.length !== this.shape.length || grad.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`nephron: gradient of shape ${formatShape(grad.shape)} for ${this}`);
    }
    if (!grad.isContiguous() || grad.storage.buffer === this.storage.buffer) {
      grad = contiguousCopy(g);
      untrackTensor(grad);
      g.dispose();
    }
    if (this.grad) {
      this.grad.addInPlace(grad);
      grad.dispose();
    } else {
      this.grad = grad;
    }
  }

  /** this += other (broadcast), in place; returns this. Not recorded by autograd. */
  addInPlace(other: Tensor): Tensor {
    return addInto(this, other);
  }

  /** Sets `.grad` to null (freeing it), as PyTorch's `zero_grad(set_to_none=True)`. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }
}

registerTensorClass((v: unknown): v is Tensor => v instanceof Tensor);

function checkShape(shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`invalid tensor shape ${formatShape(shape)}`);
  }
}

function encode(data: TensorData, dtype: DType): ArrayBufferView<ArrayBuffer> {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array
        ? (data as Float32Array<ArrayBuffer>)
        : Float32Array.from(data as ArrayLike<number>);
    case 'float16':
      return Uint16Array.from(data as ArrayLike<number>, toHalfBits);
    case 'int32':
      return data instanceof Int32Array
        ? (data as Int32Array<ArrayBuffer>)
        : Int32Array.from(data as ArrayLike<number>);
    case 'uint32':
      return data instanceof Uint32Array
        ? (data as Uint32Array<ArrayBuffer>)
        : Uint32Array.from(data as ArrayLike<number>);
    case 'bool':
      return Uint32Array.from(data as ArrayLike<number>, (v) => (v ? 1 : 0));
  }
}

function decode(
  bytes: ArrayBuffer,
  dtype: DType,
  n: number,
): Float32Array | Int32Array | Uint32Array | Uint8Array {
  switch (dtype) {
    case 'float32':
      return new Float32Array(bytes, 0, n);
    case 'float16':
      return Float32Array.from(new Uint16Array(bytes, 0, n), fromHalfBits);
    case 'int32':
      return new Int32Array(bytes, 0, n);
    case 'uint32':
      return new Uint32Array(bytes, 0, n);
    case 'bool':
      return Uint8Array.from(new Uint32Array(bytes, 0, n));
  }
}

// Filled in by ops/elementwise to break the import cycle between the tensor and its kernels.
let contiguousCopy: (t: Tensor) => Tensor;
let addInto: (dst: Tensor, src: Tensor) => Tensor;
let fill: (shape: Shape, value: number, dtype: DType) => Tensor;

export function installCoreKernels(impl: {
  contiguousCopy: typeof contiguousCopy;
  addInto: typeof addInto;
  fill: typeof fill;
}): void {
  contiguousCopy = impl.contiguousCopy;
  addInto = impl.addInto;
  fill = impl.fill;
}

/**
 * Records `output` as produced from `inputs` by an op with this backward rule, if any input requires grad and
 * grad mode is on. `save` lists tensors the rule needs; they are retained until backward (or disposal) frees them.
 */
export function recordOp(
  name: string,
  output: Tensor,
  inputs: readonly (Tensor | null | undefined)[],
  backward: BackwardFn,
  save: readonly Tensor[] = [],
): Tensor {
  if (!isGradEnabled() || !inputs.some((t) => t?.requiresGrad)) return output;
  const edges: Edge[] = inputs.map((t) => {
    if (!t?.requiresGrad) return null;
    return t.gradFn ? { node: t.gradFn } : { leaf: t };
  });
  output.gradFn = new Node(
    name,
    edges,
    save.map((t) => t.retain()),
    backward,
  );
  output.requiresGrad = true;
  return output;
}
