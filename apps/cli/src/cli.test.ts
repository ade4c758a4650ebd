import { readFileSync } from 'node:fs';
import { NoAdapterError, SOFTWARE_GPU_HELP } from '@nephron/tensor';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { ExitCode } from './host/host.js';
import { memoryHost } from './testing/memory-host.js';
import { VERSION } from './version.js';

describe('nephron command line', () => {
  it('prints help with the commands and examples, exit 0', async () => {
    const { host, stdout } = memoryHost();
    expect(await runCli(['--help'], host)).toBe(ExitCode.ok);
    expect(stdout.text).toMatch(/^Usage: nephron/);
    expect(stdout.text).toContain('doctor');
    expect(stdout.text).toContain('Examples:');
  });

  it('prints help for one command', async () => {
    const { host, stdout } = memoryHost();
    expect(await runCli(['doctor', '--help'], host)).toBe(ExitCode.ok);
    expect(stdout.text).toContain('Usage: nephron doctor');
    expect(stdout.text).toContain('--json');
  });

  it('treats a missing command as a usage mistake: help on stderr, exit 2', async () => {
    const { host, stdout, stderr } = memoryHost();
    expect(await runCli([], host)).toBe(ExitCode.usage);
    expect(stdout.text).toBe('');
    expect(stderr.text).toContain('Usage: nephron');
  });

  it('rejects an unknown command and an unknown option with exit 2', async () => {
    const unknownCommand = memoryHost();
    expect(await runCli(['frobnicate'], unknownCommand.host)).toBe(ExitCode.usage);
    expect(unknownCommand.stderr.text).toContain("unknown command 'frobnicate'");
    const unknownOption = memoryHost();
    expect(await runCli(['doctor', '--jsn'], unknownOption.host)).toBe(ExitCode.usage);
    expect(unknownOption.stderr.text).toContain("unknown option '--jsn'");
  });

  it('reports the version of package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(VERSION).toBe(pkg.version);
    const { host, stdout } = memoryHost();
    expect(await runCli(['--version'], host)).toBe(ExitCode.ok);
    expect(stdout.text.trim()).toBe(pkg.version);
  });

  it('turns an unexpected error into one message, and shows the stack only with --debug', async () => {
    const failing = () => memoryHost({ requestDevice: () => Promise.reject(new Error('driver exploded')) });
    const plain = failing();
    expect(await runCli(['doctor'], plain.host)).toBe(ExitCode.failure);
    expect(plain.stderr.text).toBe(
      'nephron: driver exploded\n(run again with --debug to see where it failed)\n',
    );
    const debug = failing();
    expect(await runCli(['doctor', '--debug'], debug.host)).toBe(ExitCode.failure);
    expect(debug.stderr.text).toMatch(/^nephron: Error: driver exploded\n\s+at /);
  });

  it('says what to do when there is no GPU adapter, without a stack trace', async () => {
    const { host, stdout, stderr } = memoryHost({
      requestDevice: () => Promise.reject(new NoAdapterError(SOFTWARE_GPU_HELP)),
    });
    expect(await runCli(['doctor'], host)).toBe(ExitCode.failure);
    expect(stdout.text).toBe('');
    expect(stderr.text).toBe(`nephron: ${SOFTWARE_GPU_HELP}\n`);
  });
});
