import {
  type AdapterDescription,
  describeAdapter,
  type GpuError,
  type NephronDevice,
  NoAdapterError,
  runSelfTest,
  type SelfTestResult,
} from '@nephron/tensor';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { ExitCode, type Host } from '../host/host.js';

export interface DoctorOptions {
  json?: boolean;
}

/** What `doctor --json` prints: one object a script can test with `.ok`. */
export interface DoctorReport {
  ok: boolean;
  host: string;
  adapter: AdapterDescription | null;
  features: string[];
  limits: Record<string, number>;
  selfTest: SelfTestSummary | null;
  /** WebGPU errors and device loss reported while the check ran. */
  errors: string[];
}

export interface SelfTestSummary {
  ok: boolean;
  elements: number;
  mismatches: number;
  /** The first element the GPU got wrong, to tell a broken driver from a rounding difference. */
  firstMismatch: { index: number; expected: number; actual: number } | null;
  milliseconds: number;
}

export function registerDoctor(program: Command, context: CommandContext): void {
  program
    .command('doctor')
    .description('check that WebGPU works here: adapter, features, limits and a kernel run end to end')
    .option('--json', 'print one JSON object (adapter, features, limits, selfTest, ok) instead of text')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ nephron doctor',
        '  $ nephron doctor --json | jq .ok',
        '  $ NEPHRON_BACKEND=vulkan nephron doctor    # ask Dawn for one backend',
        '',
        'Exit code 0 when the kernel computed the right numbers, 1 otherwise.',
      ].join('\n'),
    )
    .action(async (options: DoctorOptions) => context.setExitCode(await doctor(context.host, options)));
}

export async function doctor(host: Host, options: DoctorOptions): Promise<ExitCode> {
  const errors: string[] = [];
  const note = (error: GpuError | Error) => errors.push(error.message);
  let gpu: NephronDevice;
  try {
    gpu = await host.requestDevice({ onError: note, onLost: note });
  } catch (error) {
    if (!(error instanceof NoAdapterError)) throw error;
    if (options.json) host.stdout.write(`${JSON.stringify(noAdapterReport(host, error), null, 2)}\n`);
    host.stderr.write(`nephron: ${error.message}\n`);
    return ExitCode.failure;
  }
  try {
    const selfTest = summarize(await runSelfTest(gpu.device));
    const adapter = describeAdapter(gpu.adapter);
    adapter.backend ||= host.defaultBackend();
    const report: DoctorReport = {
      ok: selfTest.ok && errors.length === 0,
      host: host.name,
      adapter,
      features: gpu.features,
      limits: gpu.limits,
      selfTest,
      errors,
    };
    if (options.json) host.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else host.stdout.write(formatReport(report));
    if (!report.ok) host.stderr.write(`nephron: ${failureMessage(report)}\n`);
    return report.ok ? ExitCode.ok : ExitCode.failure;
  } finally {
    gpu.device.destroy();
  }
}

function noAdapterReport(host: Host, error: NoAdapterError) {
  return {
    ok: false,
    host: host.name,
    adapter: null,
    features: [],
    limits: {},
    selfTest: null,
    errors: [error.message],
  } satisfies DoctorReport;
}

export function summarize(result: SelfTestResult): SelfTestSummary {
  const wrong: number[] = [];
  result.expected.forEach((value, i) => {
    if (result.actual[i] !== value) wrong.push(i);
  });
  const first = wrong[0];
  return {
    ok: result.ok,
    elements: result.expected.length,
    mismatches: wrong.length + Math.max(0, result.actual.length - result.expected.length),
    firstMismatch:
      first === undefined
        ? null
        : { index: first, expected: result.expected[first], actual: result.actual[first] },
    milliseconds: Math.round(result.milliseconds * 10) / 10,
  };
}

function failureMessage(report: DoctorReport): string {
  const test = report.selfTest;
  if (test && !test.ok) {
    const first = test.firstMismatch;
    const where = first
      ? ` (first at element ${first.index}: got ${first.actual}, expected ${first.expected})`
      : '';
    return `the GPU computed wrong numbers: ${test.mismatches} of ${test.elements} elements differ${where}. Update the GPU driver, or try another backend with NEPHRON_BACKEND.`;
  }
  return `WebGPU reported errors during the check:\n  ${report.errors.join('\n  ')}`;
}

const MIB = 1024 * 1024;

function formatLimit(name: string, value: number): string {
  return /Size$/.test(name) && value >= MIB && value % MIB === 0 ? `${value / MIB} MiB` : String(value);
}

export function formatReport(report: DoctorReport): string {
  const adapter = report.adapter;
  const test = report.selfTest;
  const rows: [string, string][] = [
    ['host', report.host],
    ['vendor', adapter?.vendor || '(not reported)'],
    ['architecture', adapter?.architecture || '(not reported)'],
    ['device', adapter?.device || '(not reported)'],
    ['description', adapter?.description || '(not reported)'],
    ['backend', adapter?.backend || '(not reported)'],
    ['software', adapter?.isSoftware ? 'yes: WebGPU runs on the CPU, so expect it to be slow' : 'no'],
    ['features', report.features.join(', ') || '(none)'],
  ];
  const width = Math.max(...rows.map(([key]) => key.length), 'limits'.length) + 2;
  const lines = rows.map(([key, value]) => `${key.padEnd(width)}${value}`);
  const limitWidth = Math.max(...Object.keys(report.limits).map((name) => name.length)) + 2;
  lines.push('limits');
  for (const [name, value] of Object.entries(report.limits)) {
    lines.push(`  ${name.padEnd(limitWidth)}${formatLimit(name, value)}`);
  }
  if (test) {
    const verdict = test.ok
      ? `ok: ${test.elements} values of a*b+i computed by a WGSL kernel match the CPU (${test.milliseconds} ms)`
      : `FAILED: ${test.mismatches} of ${test.elements} values differ from the CPU`;
    lines.push(`${'self-test'.padEnd(width)}${verdict}`);
  }
  lines.push(`${'ok'.padEnd(width)}${report.ok}`);
  return `${lines.join('\n')}\n`;
}
