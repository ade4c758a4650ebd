import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { init, type Tensor, tensor } from '@nephron/tensor';
import { assertClose } from '@nephron/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from './adamw.js';
import { CosineAnnealingWarmRestarts } from './lr-scheduler.js';
import type { Optimizer, ParamGroupInput } from './optimizer.js';
import { SGD } from './sgd.js';

interface Flat {
  shape: number[];
  data: number[];
}
interface TrajectoryCase {
  name: string;
  groups: { params: number[]; options: Record<string, number> }[] | null;
  initial: Flat[];
  grads: Flat[][];
  after: Flat[][];
  lrs: number[][];
  state: Record<string, Record<string, Flat | number>>;
  paramGroups: Record<string, unknown>[];
}

const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/optim.json', import.meta.url)), 'utf8'),
) as { cases: TrajectoryCase[] };

beforeAll(async () => {
  await init();
});

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const options = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v]));

/** Builds the optimizer the generator built for a case, from its name. */
function build(c: TrajectoryCase, params: Tensor[]): { opt: Optimizer<never>; step: (i: number) => void } {
  const groups = c.groups?.map((g) => ({ params: g.params.map((i) => params[i]), ...options(g.options) }));
  const byName: Record<string, () => Optimizer<never>> = {
    'adamw default': () => new AdamW(params) as never,
    'adamw lr 0.05 wd 0.1 betas (0.8, 0.99) eps 1e-6': () =>
      new AdamW(params, { lr: 0.05, weightDecay: 0.1, betas: [0.8, 0.99], eps: 1e-6 }) as never,
    'adamw amsgrad': () => new AdamW(params, { lr: 0.01, amsgrad: true }) as never,
    'adamw maximize': () => new AdamW(params, { lr: 0.01, maximize: true }) as never,
    'adamw two groups': () => new AdamW(groups as ParamGroupInput<never>[], { lr: 0.01 }) as never,
    'adamw under warm restarts': () => new AdamW(params, { lr: 0.02 }) as never,
    'sgd plain': () => new SGD(params, { lr: 0.1 }) as never,
    'sgd momentum 0.9 wd 1e-3': () =>
      new SGD(params, { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }) as never,
    'sgd nesterov': () => new SGD(params, { lr: 0.05, momentum: 0.9, nesterov: true }) as never,
    'sgd dampening': () => new SGD(params, { lr: 0.05, momentum: 0.5, dampening: 0.3 }) as never,
  };
  const make = byName[c.name];
  if (!make) throw new Error(`optim.json has a case this test does not know: ${c.name}`);
  const opt = make();
  if (c.name.includes('warm restarts')) {
    const sched = new CosineAnnealingWarmRestarts(opt as never, { T_0: 2, T_mult: 2, eta_min: 1e-4 });
    return { opt, step: (i) => sched.step(i * 0.75) };
  }
  return { opt, step: () => {} };
}

describe('optimizers against PyTorch trajectories', () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      const params = c.initial.map((p) => tensor(p.data, p.shape, { requiresGrad: true }));
      const { opt, step } = build(c, params);
      for (let s = 0; s < c.grads.length; s++) {
        c.grads[s].forEach((g, i) => {
          params[i].zeroGrad();
          params[i].accumulateGrad(tensor(g.data, g.shape));
        });
        opt.step();
        step(s);
        expect(opt.paramGroups.map((g) => (g as { lr: number }).lr)).toEqual(c.lrs[s]);
        for (let i = 0; i < params.length; i++) {
          assertClose(
            await params[i].toArray(),
            c.after[s][i].data,
            { rtol: 1e-5, atol: 1e-6 },
            `${c.name}: step ${s + 1} param ${i}`,
          );
        }
      }
      const sd = opt.stateDict();
      expect(sd.paramGroups.map((g) => g.params)).toEqual(c.paramGroups.map((g) => g.params));
      sd.paramGroups.forEach((g, gi) => {
        for (const [k, v] of Object.entries(g)) {
          if (k === 'initial_lr' || k === 'params') continue;
          expect(v, `${c.name}: param group ${gi} ${k}`).toEqual(c.paramGroups[gi][k]);
        }
      });
      for (const [index, want] of Object.entries(c.state)) {
        const got = sd.state.get(Number(index)) ?? {};
        expect(Object.keys(got).sort(), `${c.name}: state ${index} keys`).toEqual(Object.keys(want).sort());
        for (const [k, v] of Object.entries(want)) {
          const g = got[k];
          if (typeof v === 'number') expect(g).toBe(v);
          else
            assertClose(
              await (g as Tensor).toArray(),
              v.data,
              { rtol: 1e-5, atol: 1e-7 },
              `${c.name}: state ${index}.${k}`,
            );
        }
      }
      opt.dispose();
      for (const p of params) p.dispose();
    });
  }

  it('resumes from a state dict exactly where it left off', async () => {
    const c = fixture.cases.find((x) => x.name === 'adamw amsgrad')!;
    const params = c.initial.map((p) => tensor(p.data, p.shape, { requiresGrad: true }));
    const feed = (s: number) =>
      c.grads[s].forEach((g, i) => {
        params[i].zeroGrad();
        params[i].accumulateGrad(tensor(g.data, g.shape));
      });
    const first = new AdamW(params, { lr: 0.01, amsgrad: true });
    for (let s = 0; s < 2; s++) {
      feed(s);
      first.step();
    }
    const second = new AdamW(params, { lr: 0.5 });
    second.loadStateDict(first.stateDict());
    first.dispose();
    expect(second.paramGroups[0].lr).toBe(0.01);
    expect(second.paramGroups[0].amsgrad).toBe(true);
    for (let s = 2; s < c.grads.length; s++) {
      feed(s);
      second.step();
    }
    for (let i = 0; i < params.length; i++) {
      assertClose(
        await params[i].toArray(),
        c.after[c.grads.length - 1][i].data,
        { rtol: 1e-5, atol: 1e-6 },
        `param ${i}`,
      );
    }
    second.dispose();
    for (const p of params) p.dispose();
  });

  it('rejects bad hyperparameters and mismatched state', () => {
    const p = tensor([1, 2], [2], { requiresGrad: true });
    expect(() => new AdamW([p], { lr: -1 })).toThrow(/invalid learning rate -1/);
    expect(() => new AdamW([p], { betas: [0.9, 1] })).toThrow(/invalid beta 1/);
    expect(() => new AdamW([])).toThrow(/empty parameter list/);
    expect(() => new AdamW([{ params: [p] }, { params: [p] }])).toThrow(/more than one parameter group/);
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
    const q = tensor([1, 2, 3], [3], { requiresGrad: true });
    const opt = new AdamW([p, q]);
    expect(() => new AdamW([p]).loadStateDict(opt.stateDict())).toThrow(
      /group 0 has 2 parameters in the state, 1 in the optimizer/,
    );
    p.dispose();
    q.dispose();
  });
});
