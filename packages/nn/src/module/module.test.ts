import { init, type Tensor, tensor, tidy } from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { Identity, ReLU, Sigmoid, SiLU } from '../layers/activation.js';
import { ModuleList, Sequential } from '../layers/container.js';
import { Module } from './module.js';

beforeAll(async () => {
  await init();
});

/** A layer shaped like BatchNorm2d, registering in PyTorch's order: parameters, then buffers. */
class Norm extends Module {
  weight: Tensor;
  bias: Tensor;
  constructor(n: number) {
    super();
    this.weight = this.registerParameter('weight', tensor(new Float32Array(n).fill(1), [n]));
    this.bias = this.registerParameter('bias', tensor(new Float32Array(n), [n]));
    this.registerBuffer('running_mean', tensor(new Float32Array(n), [n]));
    this.registerBuffer('num_batches_tracked', tensor([0], [], { dtype: 'int32' }));
    this.registerBuffer('scratch', tensor([1, 2], [2]), false);
  }
  forward(x: Tensor): Tensor {
    return x.mul(this.weight.reshape(1, -1)).add(this.bias.reshape(1, -1));
  }
}

class Lin extends Module {
  weight: Tensor;
  constructor(values: number[], withBias: boolean) {
    super();
    this.weight = this.registerParameter('weight', tensor(values, [values.length]));
    this.registerParameter('bias', withBias ? tensor([0.5], [1]) : null);
  }
  forward(x: Tensor): Tensor {
    return x.mul(this.weight);
  }
}

class Net extends Module {
  stem = this.registerModule('_conv_stem', new Lin([1, 2, 3], false));
  bn = this.registerModule('_bn0', new Norm(3));
  blocks = this.registerModule(
    '_blocks',
    new ModuleList([new Lin([4, 5, 6], true), new Lin([7, 8, 9], true)]),
  );
  act = this.registerModule('_swish', new SiLU());
  forward(x: Tensor): Tensor {
    return this.act.forward(this.stem.forward(x));
  }
}

class Model extends Module {
  encoder = this.registerModule('encoder', new Net());
  head = this.registerModule('segmentation_head', new Sequential([new Lin([1, 1, 1], true), new Identity()]));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.encoder.forward(x));
  }
}

const KEYS = [
  'encoder._conv_stem.weight',
  'encoder._bn0.weight',
  'encoder._bn0.bias',
  'encoder._bn0.running_mean',
  'encoder._bn0.num_batches_tracked',
  'encoder._blocks.0.weight',
  'encoder._blocks.0.bias',
  'encoder._blocks.1.weight',
  'encoder._blocks.1.bias',
  'segmentation_head.0.weight',
  'segmentation_head.0.bias',
];

describe('Module', () => {
  it('keys the state dict as PyTorch: own parameters, own persistent buffers, then children in order', () => {
    const m = new Model();
    expect([...m.stateDict().keys()]).toEqual(KEYS);
    expect([...m.namedParameters()].map(([k]) => k)).toEqual(
      KEYS.filter((k) => !k.includes('running') && !k.includes('num_batches')),
    );
    expect([...m.namedBuffers()].map(([k]) => k)).toEqual([
      'encoder._bn0.running_mean',
      'encoder._bn0.num_batches_tracked',
      'encoder._bn0.scratch',
    ]);
    expect(m.numParameters()).toBe(3 + 3 + 3 + 4 + 4 + 4);
    expect([...m.namedModules()].map(([k]) => k)).toEqual([
      '',
      'encoder',
      'encoder._conv_stem',
      'encoder._bn0',
      'encoder._blocks',
      'encoder._blocks.0',
      'encoder._blocks.1',
      'encoder._swish',
      'segmentation_head',
      'segmentation_head.0',
      'segmentation_head.1',
    ]);
    for (const p of m.parameters()) expect(p.requiresGrad).toBe(true);
    m.dispose();
  });

  it('switches train/eval through the whole tree', () => {
    const m = new Model();
    expect([...m.modules()].every((x) => x.training)).toBe(true);
    m.eval();
    expect([...m.modules()].some((x) => x.training)).toBe(false);
    m.train();
    expect(m.encoder.bn.training).toBe(true);
    m.dispose();
  });

  it('loads a state dict in place, converting dtypes, and reports what was missing or unexpected', async () => {
    const m = new Model();
    const stemWeight = m.encoder.stem.weight;
    const sd = new Map<string, Tensor>();
    for (const [k, v] of m.stateDict())
      sd.set(
        k,
        tensor(
          Array.from(await v.toArray(), (x) => x + 1),
          v.shape,
          { dtype: v.dtype },
        ),
      );
    m.loadStateDict(sd);
    expect(m.encoder.stem.weight).toBe(stemWeight);
    expect(Array.from(await stemWeight.toArray())).toEqual([2, 3, 4]);
    const nbt = m.stateDict().get('encoder._bn0.num_batches_tracked')!;
    expect(nbt.dtype).toBe('int32');
    expect(await nbt.item()).toBe(1);

    const partial = new Map(sd);
    partial.delete('encoder._blocks.1.bias');
    partial.set('decoder.extra', tensor([1], [1]));
    expect(() => m.loadStateDict(partial)).toThrow(
      /missing keys: encoder\._blocks\.1\.bias[\s\S]*unexpected keys: decoder\.extra/,
    );
    const result = m.loadStateDict(partial, { strict: false });
    expect(result).toEqual({ missingKeys: ['encoder._blocks.1.bias'], unexpectedKeys: ['decoder.extra'] });
    for (const t of [...sd.values(), partial.get('decoder.extra')!]) t.dispose();
    m.dispose();
  });

  it('names every wrongly shaped key and copies nothing when one is wrong', async () => {
    const m = new Model();
    const sd = new Map<string, Tensor>();
    for (const [k, v] of m.stateDict())
      sd.set(k, tensor(new Float32Array(v.numel()).fill(9), v.shape, { dtype: v.dtype }));
    sd.set('encoder._bn0.weight', tensor([1, 2], [2]));
    sd.set('encoder._blocks.0.weight', tensor([1, 2, 3], [1, 3]));
    let message = '';
    try {
      m.loadStateDict(sd, { strict: false });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/2 problem/);
    expect(message).toMatch(/size mismatch for encoder\._bn0\.weight: checkpoint has \[2\], model has \[3\]/);
    expect(message).toMatch(
      /size mismatch for encoder\._blocks\.0\.weight: checkpoint has \[1,3\], model has \[3\]/,
    );
    expect(Array.from(await m.encoder.stem.weight.toArray())).toEqual([1, 2, 3]);
    for (const t of sd.values()) t.dispose();
    m.dispose();
  });

  it('keeps its tensors alive when built inside tidy()', async () => {
    const m = tidy(() => new Model());
    expect(m.encoder.stem.weight.isDisposed).toBe(false);
    expect(Array.from(await m.encoder.stem.weight.toArray())).toEqual([1, 2, 3]);
    m.dispose();
    expect(m.encoder.stem.weight.isDisposed).toBe(true);
  });

  it('rejects duplicate and dotted names', () => {
    class Bad extends Module {
      forward(): void {}
    }
    const b = new Bad();
    b.registerModule('a', new ReLU());
    expect(() => b.registerModule('a', new Sigmoid())).toThrow(/"a" is already registered/);
    expect(() => b.registerBuffer('x.y', null)).toThrow(/invalid name "x\.y"/);
  });

  it('runs Sequential children in order and frees gradients with zeroGrad', async () => {
    const seq = new Sequential([new Lin([1, -2, 3], false), new ReLU(), new Lin([2, 2, 2], false)]);
    const y = seq.forward(tensor([1, 1, 1], [3]));
    expect(Array.from(await y.toArray())).toEqual([2, 0, 6]);
    y.sum().backward();
    const first = seq.at(0) as Lin;
    expect(Array.from(await first.weight.grad!.toArray())).toEqual([2, 0, 2]);
    seq.zeroGrad();
    expect(first.weight.grad).toBeNull();
    seq.dispose();
  });
});
