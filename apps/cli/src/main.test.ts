import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const cliRoot = fileURLToPath(new URL('..', import.meta.url));
const bin = join(cliRoot, 'bin', 'nephron.js');

/** Runs the built `nephron` binary as a user would, with extra environment variables. */
function nephron(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function newestSource(folder: string): number {
  return Math.max(
    ...readdirSync(folder, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      .map((entry) => statSync(join(entry.parentPath, entry.name)).mtimeMs),
  );
}

/**
 * Vulkan drivers hidden (both loader variables, old and new) and Dawn held to Vulkan, so that no adapter
 * exists on Linux, Windows or macOS alike.
 */
const NO_ADAPTER = {
  VK_ICD_FILENAMES: '/nonexistent/nephron-no-driver.json',
  VK_DRIVER_FILES: '/nonexistent/nephron-no-driver.json',
  NEPHRON_BACKEND: 'vulkan',
};

/** A JavaScript stack frame, such as "at run (file:///.../main.js:3:5)" or "at node:internal/...". */
const JS_STACK_FRAME = /^\s+at .*(\.[cm]?[jt]s:\d+|node:internal)/m;

describe('the nephron binary', () => {
  beforeAll(() => {
    let built = 0;
    try {
      built = statSync(join(cliRoot, 'dist', '.tsbuildinfo')).mtimeMs; // tsc -b leaves unchanged outputs such as main.js untouched
    } catch {}
    if (built < newestSource(join(cliRoot, 'src'))) {
      throw new Error('apps/cli/dist is missing or older than its sources: run `pnpm build` first.');
    }
  });

  it('doctor --json prints one JSON object with a checked kernel result', () => {
    const { code, stdout } = nephron(['doctor', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['adapter', 'features', 'limits', 'ok']));
    expect(report.ok).toBe(true);
    expect(report.host).toBe('node');
    expect(report.selfTest.mismatches).toBe(0);
  });

  it('without an adapter, doctor says what to do and exits 1 without a stack trace', () => {
    const { code, stdout, stderr } = nephron(['doctor'], NO_ADAPTER);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('nephron: No WebGPU adapter was found.');
    expect(stderr).toContain('scripts/setup-software-gpu.sh');
    expect(stderr).not.toMatch(JS_STACK_FRAME);
    expect(stderr).not.toContain('NoAdapterError');
  });

  it('without an adapter, doctor --json still prints one JSON object with ok: false', () => {
    const { code, stdout } = nephron(['doctor', '--json'], NO_ADAPTER);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, adapter: null });
  });

  it('exits 2 on a usage mistake', () => {
    const { code, stderr } = nephron(['doctor', '--no-such-flag']);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option '--no-such-flag'");
  });
});
