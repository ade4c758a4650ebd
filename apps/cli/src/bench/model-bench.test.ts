import { spawnSync } from 'node:child_process';
import { createSegmentationModel } from '@nephron/hubmap';
import { getEngine, init, requestDevice, setEngine } from '@nephron/tensor';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { ExitCode } from '../host/host.js';
import { memoryHost } from '../testing/memory-host.js';
import type { ModelBenchReport } from './model-command.js';
import { DEFAULT_MODEL_ROWS, parseModelRows } from './model-rows.js';
import { DEFAULT_PYTHON, parseTorchOutput, runTorchBench } from './torch-bridge.js';

const hasTorch = spawnSync(DEFAULT_PYTHON, ['-c', 'import torch']).status === 0;

describe('bench model rows', () => {
  it("defaults to issue 9's rows", () => {
    expect(parseModelRows(DEFAULT_MODEL_ROWS)).toEqual([
      { name: 'train-2x256', kind: 'train', batch: 2, size: 256 },
      { name: 'train-8x512', kind: 'train', batch: 8, size: 512 },
      { name: 'infer-8x512', kind: 'infer', batch: 8, size: 512 },
    ]);
  });

  it('names the row that is wrong', () => {
    expect(() => parseModelRows('train-2x256,eval-2x64')).toThrow(
      /"eval-2x64" is not a row; write train-NxS/,
    );
    expect(() => parseModelRows('infer-2x48')).toThrow(/"infer-2x48" needs .* multiple of 32/);
    expect(() => parseModelRows('infer-0x64')).toThrow(/at least 1/);
    expect(() => parseModelRows('train-1x64,train-1x64')).toThrow(/given twice/);
    expect(() => parseModelRows(' , ')).toThrow(/no rows given/);
  });
});

describe('nephron bench model', () => {
  it(
    'runs the chosen rows on a small encoder and prints rows, peak memory and a profile as JSON',
    {
      timeout: 600_000,
    },
    async () => {
      const { host, stdout, stderr } = memoryHost();
      const argv = ['bench', 'model', '--encoder', 'b0', '--rows', 'infer-1x64,train-2x64', '--steps', '1'];
      const code = await runCli([...argv, '--json', '--profile', '--no-torch'], host);
      expect(stderr.text).toMatch(/^rows: infer-1x64, train-2x64 \(efficientnet-b0, 1 timed steps each\)$/m);
      expect(code).toBe(ExitCode.ok);
      const report = JSON.parse(stdout.text) as ModelBenchReport;
      expect(report.encoder).toBe('efficientnet-b0');
      expect(report.parameters).toBe(createSegmentationModel('efficientnet-b0', 2).numParameters());
      expect(report.rows_run).toEqual(['infer-1x64', 'train-2x64']);
      expect(report.torch).toEqual({
        available: false,
        version: null,
        device: null,
        threads: null,
        parameters: null,
        note: 'PyTorch comparison skipped (--no-torch)',
      });
      expect(report.rows.map((r) => [r.name, r.kind, r.batch, r.size, r.runs])).toEqual([
        ['infer-1x64', 'infer', 1, 64, 1],
        ['train-2x64', 'train', 2, 64, 1],
      ]);
      const [infer, train] = report.rows;
      for (const r of report.rows) {
        expect(r.ours_ms).toBeGreaterThan(0);
        expect(r.ours_images_per_s).toBeCloseTo((1000 * r.batch) / r.ours_ms, 6);
        expect(r).toMatchObject({ torch_ms: null, ratio: null, torch_images_per_s: null, cpu_ratio: null });
        // Node can tell CPU time; lavapipe's threads do the GPU work inside this process.
        expect(r.ours_cpu_ms).toBeGreaterThan(0);
        // At least the weights are live during a row: 4 bytes a parameter.
        expect(r.peak_gpu_bytes).toBeGreaterThan(4 * report.parameters);
        const ops = (r.profile ?? []).map((p) => p.op);
        expect(ops.some((op) => op.startsWith('conv2d depthwise'))).toBe(true);
        expect(ops).toContain('batchnorm');
      }
      // Training keeps gradients, AdamW's two moments and the activations on top of the weights.
      expect(train.peak_gpu_bytes).toBeGreaterThan(infer.peak_gpu_bytes + 3 * 4 * report.parameters);
      expect(train.profile?.map((p) => p.op)).toContain('optimizer');
      expect(infer.profile?.map((p) => p.op)).not.toContain('optimizer');
    },
  );

  it(
    'says why there is no PyTorch comparison and still prints its own rows',
    { timeout: 600_000 },
    async () => {
      const { host, stdout } = memoryHost();
      const argv = ['bench', 'model', '--encoder', 'b0', '--rows', 'infer-1x32', '--steps', '1'];
      const code = await runCli([...argv, '--python', '/nonexistent/python3'], host);
      expect(code).toBe(ExitCode.ok);
      expect(stdout.text).toMatch(/^PyTorch not available: cannot run \/nonexistent\/python3 /m);
      expect(stdout.text).toMatch(/^infer-1x32 +\d+\.\d +— +— +— +\d+\.\d\d +— +\d+$/m);
    },
  );

  it(
    'says when --profile cannot run (no timestamp-query) and times the rows anyway',
    { timeout: 600_000 },
    async () => {
      const previous = await init();
      setEngine(null);
      const { host, stdout, stderr } = memoryHost({
        requestDevice: (options) => requestDevice({ ...options, noOptionalFeatures: true }),
      });
      try {
        const argv = [
          'bench',
          'model',
          '--encoder',
          'b0',
          '--rows',
          'infer-1x32',
          '--steps',
          '1',
          '--profile',
        ];
        expect(await runCli([...argv, '--no-torch', '--json'], host)).toBe(ExitCode.ok);
        expect(stderr.text).toMatch(
          /GPU profiling needs the WebGPU feature "timestamp-query".*timing the rows without/,
        );
        const report = JSON.parse(stdout.text) as ModelBenchReport;
        expect(report.rows[0].ours_ms).toBeGreaterThan(0);
        expect(report.rows[0].profile).toBeUndefined();
      } finally {
        getEngine().destroy();
        setEngine(previous);
      }
    },
  );

  it('refuses a bad row, encoder or step count with a usage error', async () => {
    for (const [flag, value, message] of [
      ['--rows', 'train-2', /"train-2" is not a row/],
      ['--encoder', 'resnet50', /--encoder "resnet50" is not one of efficientnet-b0/],
      ['--steps', '0', /--steps must be a positive integer, got "0"/],
      ['--torch-device', 'tpu', /--torch-device must be cpu or cuda, got "tpu"/],
    ] as const) {
      const { host, stderr } = memoryHost();
      expect(await runCli(['bench', 'model', flag, value], host)).toBe(ExitCode.usage);
      expect(stderr.text).toMatch(message);
    }
  });
});

describe('PyTorch bridge', () => {
  it('reads the last JSON line of the script', () => {
    const out = `warming up\n{"torch": "1.13.0", "threads": 2, "encoder": "efficientnet-b0", "parameters": 6251614, "rows": [{"name": "train-2x64", "ms": 12.5, "runs": 3}]}\n`;
    expect(parseTorchOutput(out)).toEqual({
      torch: '1.13.0',
      device: 'cpu',
      threads: 2,
      encoder: 'efficientnet-b0',
      parameters: 6251614,
      rows: [{ name: 'train-2x64', ms: 12.5, cpuMs: null, runs: 3 }],
    });
  });

  it('reads CPU time where the script gives it', () => {
    const out =
      '{"torch": "1.13.0", "threads": 2, "parameters": 1, "rows": [{"name": "a", "ms": 2, "cpu_ms": 3.5}]}';
    expect(parseTorchOutput(out).rows).toEqual([{ name: 'a', ms: 2, cpuMs: 3.5, runs: 0 }]);
  });

  it('names what is wrong with bad output', () => {
    expect(() => parseTorchOutput('')).toThrow(/printed nothing/);
    expect(() => parseTorchOutput('Traceback ...')).toThrow(/not JSON: Traceback/);
    expect(() => parseTorchOutput('{"threads": 2}')).toThrow(/"torch" \(the version\) is missing/);
    expect(() =>
      parseTorchOutput('{"torch": "1", "threads": 2, "parameters": 1, "rows": [{"name": "a", "ms": 0}]}'),
    ).toThrow(/rows\[0\] \(a\) has no positive "ms"/);
  });

  it('says PyTorch is not available when the Python cannot import it', async () => {
    const outcome = await runTorchBench({
      python: '/bin/false',
      encoder: 'b0',
      rows: ['infer-1x32'],
      steps: 1,
    });
    expect(outcome).toEqual({
      ok: false,
      note: "PyTorch not available: /bin/false -c 'import torch' failed (exit 1)",
    });
  });

  it.skipIf(!hasTorch)(
    'times rows with PyTorch on the same architecture (where /usr/bin/python3 has torch)',
    { timeout: 600_000 },
    async () => {
      const outcome = await runTorchBench({
        encoder: 'efficientnet-b0',
        rows: ['infer-1x32', 'train-2x32'],
        steps: 1,
      });
      if (!outcome.ok) throw new Error(outcome.note);
      await init();
      expect(outcome.result.parameters).toBe(createSegmentationModel('efficientnet-b0', 2).numParameters());
      expect(outcome.result.rows.map((r) => r.name)).toEqual(['infer-1x32', 'train-2x32']);
      for (const r of outcome.result.rows) {
        expect(r.ms).toBeGreaterThan(0);
        expect(r.cpuMs).toBeGreaterThan(0);
      }
    },
  );
});
