import { isNode } from '@nephron/tensor';

/** One row as the PyTorch script measured it. */
export interface TorchRow {
  name: string;
  /** Median milliseconds of one step (train) or one forward pass (infer). */
  ms: number;
  /** Median CPU milliseconds of the process (all threads), or null from an older script. */
  cpuMs: number | null;
  runs: number;
}

/** What scripts/bench/model_torch.py prints on stdout. */
export interface TorchResult {
  torch: string;
  /** "cpu", or the CUDA device's name. */
  device: string;
  threads: number;
  encoder: string;
  parameters: number;
  rows: TorchRow[];
}

/** PyTorch's figures, or why there are none (a note the benchmark prints instead of failing). */
export type TorchOutcome = { ok: true; result: TorchResult } | { ok: false; note: string };

export const DEFAULT_PYTHON = '/usr/bin/python3';

/** Checks the script's JSON: the last non-empty line of stdout, with the fields the benchmark reads. */
export function parseTorchOutput(stdout: string): TorchResult {
  const line = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1);
  if (line === undefined) throw new Error('model_torch.py printed nothing on stdout');
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    throw new Error(`model_torch.py printed a last line that is not JSON: ${line.slice(0, 120)}`);
  }
  const d = data as Partial<TorchResult>;
  const bad = (what: string) => new Error(`model_torch.py output: ${what}`);
  if (typeof d !== 'object' || d === null) throw bad('not a JSON object');
  if (typeof d.torch !== 'string') throw bad('"torch" (the version) is missing');
  if (typeof d.threads !== 'number') throw bad('"threads" is missing');
  if (typeof d.parameters !== 'number') throw bad('"parameters" is missing');
  if (!Array.isArray(d.rows)) throw bad('"rows" is not a list');
  const rows = d.rows.map((r: Partial<TorchRow> & { cpu_ms?: unknown }, i: number) => {
    if (typeof r?.name !== 'string') throw bad(`rows[${i}] has no name`);
    if (typeof r.ms !== 'number' || !(r.ms > 0)) throw bad(`rows[${i}] (${r.name}) has no positive "ms"`);
    const cpuMs = typeof r.cpu_ms === 'number' ? r.cpu_ms : null;
    return { name: r.name, ms: r.ms, cpuMs, runs: typeof r.runs === 'number' ? r.runs : 0 };
  });
  return {
    torch: d.torch,
    device: typeof d.device === 'string' ? d.device : 'cpu',
    threads: d.threads,
    encoder: String(d.encoder ?? ''),
    parameters: d.parameters,
    rows,
  };
}

interface Completed {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

async function run(command: string, args: string[], onStderr?: (text: string) => void): Promise<Completed> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      onStderr?.(chunk);
    });
    child.on('error', (error) => resolve({ code: null, stdout, stderr, error }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lastLine = (text: string) => text.trim().split('\n').at(-1)?.trim() ?? '';

/** The committed script, found from this file in src/ or dist/ alike (apps/cli/{src,dist}/bench/). */
async function scriptPath(): Promise<string> {
  const { fileURLToPath } = await import('node:url');
  return fileURLToPath(new URL('../../../../scripts/bench/model_torch.py', import.meta.url));
}

export interface TorchBenchOptions {
  python?: string;
  encoder: string;
  /** Row names, as `--rows` takes them. */
  rows: readonly string[];
  steps: number;
  classes?: number;
  /** Where PyTorch runs: "cpu" (default) or "cuda". */
  device?: string;
  /** The script's progress lines, as they come. */
  onProgress?: (text: string) => void;
}

/**
 * Runs the same rows with PyTorch on the CPU (scripts/bench/model_torch.py), when `python` can import torch.
 * Anything short of figures (no Python, no torch, no script, a failed run) comes back as a note, because the
 * comparison is optional and the benchmark must still report our own figures.
 */
export async function runTorchBench(options: TorchBenchOptions): Promise<TorchOutcome> {
  const python = options.python ?? DEFAULT_PYTHON;
  if (!isNode) return { ok: false, note: 'PyTorch not available: a browser cannot run Python' };
  const probe = await run(python, ['-c', 'import torch']);
  if (probe.error) {
    return { ok: false, note: `PyTorch not available: cannot run ${python} (${probe.error.message})` };
  }
  if (probe.code !== 0) {
    return {
      ok: false,
      note: `PyTorch not available: ${python} -c 'import torch' failed (${lastLine(probe.stderr) || `exit ${probe.code}`})`,
    };
  }
  const script = await scriptPath();
  const { existsSync } = await import('node:fs');
  if (!existsSync(script)) return { ok: false, note: `PyTorch not available: ${script} is missing` };
  const args = [
    script,
    '--encoder',
    options.encoder,
    '--rows',
    options.rows.join(','),
    '--steps',
    String(options.steps),
    '--classes',
    String(options.classes ?? 2),
    '--device',
    options.device ?? 'cpu',
  ];
  const result = await run(python, args, options.onProgress);
  if (result.error || result.code !== 0) {
    const why = result.error?.message ?? (lastLine(result.stderr) || `exit ${result.code}`);
    return { ok: false, note: `PyTorch run failed: ${why}` };
  }
  try {
    return { ok: true, result: parseTorchOutput(result.stdout) };
  } catch (error) {
    return { ok: false, note: `PyTorch run failed: ${(error as Error).message}` };
  }
}
