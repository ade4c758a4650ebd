import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { init, tensor } from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { CosineAnnealingWarmRestarts, type CosineAnnealingWarmRestartsState } from './lr-scheduler.js';
import { SGD } from './sgd.js';

interface SchedulerCase {
  T_0: number;
  T_mult: number;
  eta_min: number;
  lrs: number[];
  steps: (number | null)[];
  expected: number[][];
  state: CosineAnnealingWarmRestartsState;
}

const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/scheduler.json', import.meta.url)), 'utf8'),
) as { cases: SchedulerCase[] };

beforeAll(async () => {
  await init();
});

function optimizerWith(lrs: number[]) {
  return new SGD(
    lrs.map((lr) => ({ params: [tensor([0], [1], { requiresGrad: true })], lr })),
    { lr: lrs[0] },
  );
}

/** Within a few ulps: cos and log come from different math libraries on the two sides. */
function expectLrs(got: number[], want: number[], label: string) {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const tolerance = 1e-15 + 1e-12 * Math.abs(want[i]);
    expect(Math.abs(got[i] - want[i]), `${label} group ${i}: ${got[i]} vs ${want[i]}`).toBeLessThan(
      tolerance,
    );
  }
}

describe('CosineAnnealingWarmRestarts against PyTorch', () => {
  fixture.cases.forEach((c, index) => {
    const kind = c.steps.every((s) => s === null) ? 'step()' : 'step(epoch)';
    it(`case ${index}: T_0 ${c.T_0}, T_mult ${c.T_mult}, eta_min ${c.eta_min}, ${c.steps.length} × ${kind}`, () => {
      const opt = optimizerWith(c.lrs);
      const sched = new CosineAnnealingWarmRestarts(opt, {
        T_0: c.T_0,
        T_mult: c.T_mult,
        eta_min: c.eta_min,
      });
      expectLrs(
        opt.paramGroups.map((g) => g.lr),
        c.expected[0],
        'initial',
      );
      c.steps.forEach((s, i) => {
        if (s === null) sched.step();
        else sched.step(s);
        expectLrs(
          opt.paramGroups.map((g) => g.lr),
          c.expected[i + 1],
          `after step ${i + 1} (${s})`,
        );
      });
      const state = sched.stateDict();
      const { T_cur, _last_lr, ...exact } = state;
      const { T_cur: wantCur, _last_lr: wantLast, ...wantExact } = c.state;
      expect(exact).toEqual(wantExact);
      expect(T_cur).toBeCloseTo(wantCur, 12);
      expectLrs(_last_lr, wantLast, 'last lr');
      opt.dispose();
    });
  });

  it('restarts at epochs 5, 15, 35 and 75 with T_0 = 5, T_mult = 2', () => {
    const opt = optimizerWith([1]);
    const sched = new CosineAnnealingWarmRestarts(opt, { T_0: 5, T_mult: 2 });
    const restarts: number[] = [];
    for (let epoch = 1; epoch <= 80; epoch++) {
      sched.step();
      if (sched.getLastLr()[0] === 1) restarts.push(epoch);
    }
    expect(restarts).toEqual([5, 15, 35, 75]);
  });

  it('resumes from its state dict', () => {
    const a = optimizerWith([0.1]);
    const first = new CosineAnnealingWarmRestarts(a, { T_0: 5, T_mult: 2, eta_min: 1e-3 });
    for (let i = 0; i < 12; i++) first.step();
    const b = optimizerWith([0.1]);
    const second = new CosineAnnealingWarmRestarts(b, { T_0: 5, T_mult: 2, eta_min: 1e-3 });
    second.loadStateDict(first.stateDict());
    first.step();
    second.step();
    expect(second.getLastLr()).toEqual(first.getLastLr());
    expect(() =>
      new CosineAnnealingWarmRestarts(b, { T_0: 5, T_mult: 3 }).loadStateDict(first.stateDict()),
    ).toThrow(/T_mult=2/);
    expect(() => new CosineAnnealingWarmRestarts(b, { T_0: 0 })).toThrow(/positive integer T_0/);
  });
});
