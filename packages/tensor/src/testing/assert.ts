export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/**
 * Throws with the worst element named when |actual - expected| > atol + rtol * |expected| anywhere.
 * NaNs must match NaNs.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6 }: Tolerance = {},
  label = 'tensor',
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: ${actual.length} values, expected ${expected.length}`);
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) {
        worst = i;
        worstExcess = Number.POSITIVE_INFINITY;
        break;
      }
      continue;
    }
    if (a === e) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worstExcess || (excess > 0 && worst < 0)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(|diff| ${Math.abs(actual[worst] - expected[worst]).toExponential(3)} > atol ${atol} + rtol ${rtol}·|expected|)`,
    );
  }
}
