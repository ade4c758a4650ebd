import { type ChildProcess, spawn } from 'node:child_process';
import { type FSWatcher, mkdirSync, watch } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/nephron.js', import.meta.url));

export interface CliExit {
  /** The exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the start to the exit. */
  ms: number;
}

/** The built `nephron` binary running in the background, so that a test can interrupt it. */
export interface CliProcess {
  child: ChildProcess;
  exited: Promise<CliExit>;
  /** Sends a signal if the process still runs; true when it was sent. */
  signal(signal: NodeJS.Signals): boolean;
}

export function startCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  let running = true;
  const exited = new Promise<CliExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running = false;
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
  return {
    child,
    exited,
    signal(signal) {
      // `exitCode` and `signalCode` are set the moment the process ends, before its pipes close.
      if (!running || child.exitCode !== null || child.signalCode !== null) return false;
      return child.kill(signal);
    },
  };
}

/**
 * Calls `onFile` with the name of every file created, renamed or written in `folder` ('rename' or
 * 'change'; inotify on Linux, so the call comes within a millisecond or so: early enough to kill a process
 * halfway through writing a file). The folder is created if needed. Returns a function that stops watching.
 */
export function watchFolder(
  folder: string,
  onFile: (name: string, event: 'rename' | 'change') => void,
): () => void {
  mkdirSync(folder, { recursive: true });
  const watcher: FSWatcher = watch(folder, (event, name) => {
    if (name) onFile(name.toString(), event);
  });
  return () => watcher.close();
}

/** A temporary file of an atomic write (`.{name}.{pid}.{stamp}.tmp`, see host/node-files.ts) for `target`. */
export function isTempOf(name: string, target: string): boolean {
  return name.startsWith(`.${target}.`) && name.endsWith('.tmp');
}

/** Any temporary file of an atomic write. */
export function isTemp(name: string): boolean {
  return /^\..+\.\d+\.[0-9a-z]+\.tmp$/.test(name);
}

/** A small seeded generator (mulberry32): the same kill schedule on every run of a test. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many kill-and-resume trials to run: a few in CI, more under `pnpm soak` (NEPHRON_KILL_TRIALS). */
export function killTrials(ciDefault: number): number {
  const value = Number(process.env.NEPHRON_KILL_TRIALS ?? ciDefault);
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(
      `NEPHRON_KILL_TRIALS must be a positive integer, got ${process.env.NEPHRON_KILL_TRIALS}`,
    );
  return value;
}

/** The seed of the kill schedule (NEPHRON_KILL_SEED replays a soak run). */
export function killSeed(ciDefault: number): number {
  return Number(process.env.NEPHRON_KILL_SEED ?? ciDefault);
}
