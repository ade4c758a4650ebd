import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { ExitCode } from '../host/host.js';
import { memoryHost } from '../testing/memory-host.js';
import type { KernelRow } from './kernel-bench.js';

describe('nephron bench kernels', () => {
  // tfjs-webgpu is a dev dependency, so it is here; each side's run ends either with the GPU queue drained
  // (tfjs's recorded commands submitted first) or with the result read back.
  for (const flags of [[], ['--readback']]) {
    it(
      `times ours and tfjs on the same rows, ${flags[0] ?? 'queue drained'}`,
      { timeout: 300_000 },
      async () => {
        const { host, stdout, stderr } = memoryHost();
        const argv = ['bench', 'kernels', '--rows', 'matmul', '--min-ms', '1', '--json', ...flags];
        const code = await runCli(argv, host);
        expect(code, stderr.text).toBe(ExitCode.ok);
        const rows = JSON.parse(stdout.text) as KernelRow[];
        expect(rows.map((r) => r.name)).toEqual(['matmul 1024³']);
        for (const r of rows) {
          expect(r.ours_gflops).toBeGreaterThan(0);
          expect(r.tfjs_gflops).toBeGreaterThan(0);
          expect(r.ratio).toBeCloseTo((r.tfjs_ms as number) / r.ours_ms, 9);
        }
      },
    );
  }
});
