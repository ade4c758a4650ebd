import { init, tensor } from '@nephron/tensor';
import { randomCpu } from '@nephron/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { diceCoefficient } from './dice.js';

beforeAll(async () => {
  await init();
});

function cpuDice(p: ArrayLike<number>, t: ArrayLike<number>, threshold: number): number {
  let inter = 0;
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] > threshold ? 1 : 0;
    const b = t[i] !== 0 ? 1 : 0;
    inter += a * b;
    total += a + b;
  }
  return total === 0 ? 1 : (2 * inter) / total;
}

describe('diceCoefficient', () => {
  it('matches a CPU reference on random masks', async () => {
    const probs = randomCpu([2, 7, 9], 3, 0, 1);
    const target = randomCpu([2, 7, 9], 4, 0, 1).data.map((v) => (v > 0.6 ? 1 : 0));
    for (const threshold of [0.3, 0.5, 0.9]) {
      const d = diceCoefficient(
        tensor(probs.data, probs.shape),
        tensor(target, [2, 7, 9], { dtype: 'int32' }),
        threshold,
      );
      expect(await d.item()).toBeCloseTo(cpuDice(probs.data, target, threshold), 6);
    }
  });

  it('is 1 for two empty masks and 0 for disjoint ones', async () => {
    const zeros = tensor([0, 0, 0, 0], [4]);
    expect(await diceCoefficient(zeros, zeros).item()).toBe(1);
    expect(await diceCoefficient(tensor([1, 1, 0, 0], [4]), tensor([0, 0, 1, 1], [4])).item()).toBe(0);
    expect(() => diceCoefficient(zeros, tensor([1, 2], [2]))).toThrow(/differ in shape/);
  });
});
