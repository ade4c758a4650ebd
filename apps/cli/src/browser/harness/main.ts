// The browser side of the harness: the same device code the CLI uses in Node, here on navigator.gpu.
import { describeAdapter, requestDevice, runSelfTest } from '@nephron/tensor';
import type { HarnessResult } from './result.js';

declare global {
  interface Window {
    nephronHarness: Promise<HarnessResult>;
  }
}

async function run(): Promise<HarnessResult> {
  const base = { userAgent: navigator.userAgent, adapter: null, features: [], selfTest: null };
  try {
    const gpu = await requestDevice();
    try {
      const selfTest = await runSelfTest(gpu.device);
      return {
        ...base,
        ok: selfTest.ok && gpu.errors.length === 0,
        adapter: describeAdapter(gpu.adapter),
        features: gpu.features,
        selfTest,
        error: gpu.errors.length > 0 ? gpu.errors.map((e) => e.message).join('\n') : null,
      };
    } finally {
      gpu.device.destroy();
    }
  } catch (error) {
    return {
      ...base,
      ok: false,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    };
  }
}

window.nephronHarness = run();
window.nephronHarness.then((result) => {
  const element = document.getElementById('result');
  if (element) element.textContent = JSON.stringify(result, null, 2);
  document.body.dataset.status = result.ok ? 'ok' : 'failed';
});
