import { NoAdapterError, type SelfTestResult } from '@nephron/tensor';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../host/host.js';
import { memoryHost } from '../testing/memory-host.js';
import { type DoctorReport, doctor, formatReport, summarize } from './doctor.js';

describe('nephron doctor', () => {
  it('checks the GPU of this machine and prints one JSON object', async () => {
    const { host, stdout, stderr } = memoryHost({ defaultBackend: () => 'vulkan' });
    expect(await doctor(host, { json: true })).toBe(ExitCode.ok);
    expect(stderr.text).toBe('');
    const report = JSON.parse(stdout.text) as DoctorReport;
    expect(report.ok).toBe(true);
    expect(report.host).toBe('memory');
    expect(report.adapter?.backend).not.toBe('');
    expect(report.features.every((name) => typeof name === 'string')).toBe(true);
    // WebGPU's default is 128 MiB; the device layer asks for the adapter's own maximum.
    expect(report.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(report.selfTest).toMatchObject({ ok: true, elements: 1000, mismatches: 0, firstMismatch: null });
    expect(report.errors).toEqual([]);
  });

  it('prints a readable report by default', async () => {
    const { host, stdout } = memoryHost();
    expect(await doctor(host, {})).toBe(ExitCode.ok);
    expect(stdout.text).toMatch(/^host {2,}memory$/m);
    expect(stdout.text).toMatch(/^self-test {2,}ok: 1000 values/m);
    expect(stdout.text).toMatch(/^ {2}maxStorageBufferBindingSize {2,}\d+/m);
    expect(stdout.text).toMatch(/^ok {2,}true$/m);
  });

  it('prints ok: false as JSON when there is no adapter', async () => {
    const { host, stdout, stderr } = memoryHost({
      requestDevice: () => Promise.reject(new NoAdapterError('No WebGPU adapter was found.')),
    });
    expect(await doctor(host, { json: true })).toBe(ExitCode.failure);
    expect(JSON.parse(stdout.text)).toMatchObject({ ok: false, adapter: null, selfTest: null });
    expect(stderr.text).toBe('nephron: No WebGPU adapter was found.\n');
  });

  it('names the first element a broken GPU got wrong', () => {
    const result: SelfTestResult = {
      ok: false,
      expected: [1, 2, 3, 4],
      actual: [1, 2, 0, 0],
      milliseconds: 1.234,
    };
    expect(summarize(result)).toEqual({
      ok: false,
      elements: 4,
      mismatches: 2,
      firstMismatch: { index: 2, expected: 3, actual: 0 },
      milliseconds: 1.2,
    });
  });

  it('counts missing elements as mismatches', () => {
    const result: SelfTestResult = { ok: false, expected: [1, 2, 3], actual: [1], milliseconds: 0 };
    expect(summarize(result)).toMatchObject({ mismatches: 2, firstMismatch: { index: 1 } });
  });

  it('shows a failed self-test in the text report', () => {
    const report: DoctorReport = {
      ok: false,
      host: 'node',
      adapter: null,
      features: [],
      limits: { maxBufferSize: 256 * 1024 * 1024 },
      selfTest: summarize({ ok: false, expected: [1, 2], actual: [1, 5], milliseconds: 3 }),
      errors: [],
    };
    const text = formatReport(report);
    expect(text).toMatch(/^self-test {2,}FAILED: 1 of 2 values differ from the CPU$/m);
    expect(text).toMatch(/^ {2}maxBufferSize {2,}256 MiB$/m);
    expect(text).toMatch(/^features {2,}\(none\)$/m);
  });
});
