import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceLostError } from '../device/errors.js';
import '../index.js';
import { tensor } from '../ops/creation.js';
import { Tensor } from '../tensor.js';
import { type Engine, init } from './engine.js';

/**
 * GPU faults: an allocation past the device's limit fails at once with the tensor's size and what to try;
 * a device that goes away mid-run (here: destroyed, as a driver reset or an unplugged GPU would do) makes the
 * next read and every later op throw DeviceLostError saying what to do, and nothing hangs. The loss is
 * tested last: it ends this file's device.
 */

let engine: Engine;
beforeAll(async () => {
  engine = await init();
});

describe('GPU faults', () => {
  it('a huge allocation names the tensor size and the limit, and the engine goes on working', async () => {
    const limit = engine.device.limits.maxBufferSize;
    const side = 2 ** 20;
    expect(side * side * 4).toBeGreaterThan(limit);
    let message = '';
    try {
      Tensor.empty([side, side]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`a tensor of ${side * side * 4} bytes (4194304.0 MiB)`);
    expect(message).toContain(`maxBufferSize of ${limit} bytes`);
    expect(message).toContain('Try a smaller batch or tile size');
    const a = tensor([1, 2, 3], [3]);
    expect(Array.from(await a.add(a).toArray())).toEqual([2, 4, 6]);
    a.dispose();
  });

  it('device loss mid-run surfaces as DeviceLostError on the next read and on every later op, never a hang', async () => {
    let x = tensor([1, 2, 3, 4], [4]);
    const one = tensor([1, 1, 1, 1], [4]);
    let lostAt = -1;
    let error: unknown;
    for (let step = 0; step < 20; step++) {
      const next = x.add(one);
      x.dispose();
      x = next;
      if (step === 7) engine.device.destroy();
      if (step % 5 === 4 || step === 7) {
        try {
          await x.toArray();
        } catch (e) {
          error = e;
          lostAt = step;
          break;
        }
      }
    }
    expect(lostAt).toBe(7);
    expect(error).toBeInstanceOf(DeviceLostError);
    const message = (error as Error).message;
    expect(message).toMatch(/^The GPU device was destroyed/);
    expect(message).toContain('restart the run');
    expect(message).toContain('try a smaller batch or tile size');
    // Every later use fails the same way, at once.
    expect(() => x.add(one)).toThrow(DeviceLostError);
    expect(() => tensor([1], [1])).toThrow(DeviceLostError);
    await expect(engine.sync()).rejects.toBeInstanceOf(DeviceLostError);
    await expect(x.toArray()).rejects.toBeInstanceOf(DeviceLostError);
  });
});
