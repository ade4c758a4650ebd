import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cliRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(cliRoot, 'bin', 'nephron.js');

/** The real data folder (`../shared/data` from the repository root), and whether it is here. */
export const sharedData = fileURLToPath(new URL('../../../../../shared/data/', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `nephron` binary as a user would. */
export function runBuiltCli(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): CliResult {
  const result = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Throws unless apps/cli was built after its sources last changed, so tests never run stale code. The
 * build-info file is the clock: `tsc -b` rewrites it on every build that changed anything, while it leaves
 * output files whose content did not change (such as dist/main.js) untouched.
 */
export function assertCliBuilt(): void {
  let built = 0;
  try {
    built = statSync(join(cliRoot, 'dist', '.tsbuildinfo')).mtimeMs;
  } catch {}
  const folder = join(cliRoot, 'src');
  const newest = Math.max(
    ...readdirSync(folder, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      .map((entry) => statSync(join(entry.parentPath, entry.name)).mtimeMs),
  );
  if (built < newest)
    throw new Error('apps/cli/dist is missing or older than its sources: run `pnpm build` first.');
}

/** A JavaScript stack frame, which user-facing errors must not show. */
export const JS_STACK_FRAME = /^\s+at .*(\.[cm]?[jt]s:\d+|node:internal)/m;

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
