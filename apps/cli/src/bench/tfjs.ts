import { getGpu } from '@nephron/tensor';

/** The tfjs-webgpu side of the kernel benchmark, on the same WebGPU adapter as ours. */
export interface Tfjs {
  /**
   * One run of `make` (which returns a tfjs tensor) for a timer to call: it submits tfjs's pending commands and
   * waits until the GPU queue has drained, or, with `readback`, reads the result back instead.
   */
  runner(make: () => unknown, readback?: boolean): () => Promise<void>;
  matMul(a: number[], b: number[]): unknown;
  conv2d(c: { n: number; c: number; h: number; w: number; cout: number; k: number; groups: number }): unknown;
  dispose(): void;
}

type TfCore = typeof import('@tensorflow/tfjs-core');

/** The parts of tfjs-webgpu's backend that submit its recorded commands (it batches them until a read). */
interface WebGpuBackend {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** Submits what tfjs has recorded and waits for the GPU to finish it: the end of a run without a readback. */
async function drain(backend: WebGpuBackend): Promise<void> {
  backend.endComputePassEncoder();
  if (backend.commandEncoder) backend.submitQueue();
  await backend.device.queue.onSubmittedWorkDone();
}

/**
 * Loads tfjs-core with its WebGPU backend, or returns null when they are not installed (they are development
 * dependencies of the benchmark only). In Node, tfjs looks for `navigator.gpu`, so Dawn's GPU is put there.
 */
export async function loadTfjs(): Promise<Tfjs | null> {
  let tf: TfCore;
  try {
    const nav = globalThis as { navigator?: { gpu?: GPU } };
    if (!nav.navigator?.gpu) {
      const gpu = await getGpu();
      Object.defineProperty(globalThis, 'navigator', {
        value: { ...(nav.navigator ?? {}), gpu },
        configurable: true,
      });
    }
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) return null;
    await tf.ready();
  } catch {
    return null;
  }
  const inputs: { dispose(): void }[] = [];
  const cache = new Map<string, unknown[]>();
  const operands = (key: string, make: () => unknown[]) => {
    let v = cache.get(key);
    if (!v) {
      v = make();
      cache.set(key, v);
      inputs.push(...(v as { dispose(): void }[]));
    }
    return v;
  };
  return {
    runner(make, readback = false) {
      return async () => {
        const t = make() as { data(): Promise<unknown>; dispose(): void };
        if (readback) await t.data();
        else await drain(tf.backend() as unknown as WebGpuBackend);
        t.dispose();
      };
    },
    matMul(a, b) {
      const [x, y] = operands(`mm${a}${b}`, () => [tf.randomNormal(a), tf.randomNormal(b)]);
      return tf.matMul(x as never, y as never);
    },
    conv2d(c) {
      const [x, w] = operands(`conv${JSON.stringify(c)}`, () =>
        c.groups === 1
          ? [tf.randomNormal([c.n, c.h, c.w, c.c]), tf.randomNormal([c.k, c.k, c.c, c.cout])]
          : [tf.randomNormal([c.n, c.h, c.w, c.c]), tf.randomNormal([c.k, c.k, c.c, c.cout / c.c])],
      );
      return c.groups === 1
        ? tf.conv2d(x as never, w as never, 1, 'same')
        : tf.depthwiseConv2d(x as never, w as never, 1, 'same');
    },
    dispose() {
      for (const t of inputs) t.dispose();
    },
  };
}
