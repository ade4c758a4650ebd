import { getEngine } from './engine.js';

/**
 * Per-adapter kernel tuning. Tile sizes that win on one device lose on another (a CPU adapter wants huge register
 * blocks, a GPU wants many small workgroups), so ops with several equivalent kernels ask the tuner which one to
 * run for a shape class. The tuner answers from its cache; on a miss it answers with the op's heuristic choice
 * and, when tuning is on, queues a job that times each candidate once on this adapter and remembers the fastest.
 *
 * Every candidate of a job must compute bit-identical results (same summation order, only the tiling differs),
 * so tuning changes speed and never numbers. Tuning is off unless `setAutotune({ enabled: true })` or
 * `NEPHRON_AUTOTUNE=1` turns it on; tests that do not exercise it therefore always see the heuristic choice.
 */

/** Where choices persist: per adapter, a map from `op|shape class` to the winning candidate's key. */
export interface TuneStore {
  load(adapter: string): Record<string, string>;
  save(adapter: string, choices: Record<string, string>): void;
}

/** Keeps choices for the life of the process (the browser default: no file system in the way). */
export class MemoryTuneStore implements TuneStore {
  private readonly data = new Map<string, Record<string, string>>();
  load(adapter: string): Record<string, string> {
    return { ...(this.data.get(adapter) ?? {}) };
  }
  save(adapter: string, choices: Record<string, string>): void {
    this.data.set(adapter, { ...choices });
  }
}

interface NodeFs {
  readFileSync(path: string, encoding: 'utf8'): string;
  writeFileSync(path: string, data: string): void;
  renameSync(from: string, to: string): void;
  mkdirSync(path: string, options: { recursive: boolean }): void;
}

type NodeProcess = {
  env: Record<string, string | undefined>;
  pid: number;
  getBuiltinModule?: (name: string) => unknown;
};

function nodeProcess(): NodeProcess | null {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.env ? p : null;
}

/**
 * One JSON file shared by all adapters of the machine, keyed by adapter. Reads tolerate a missing or damaged file
 * (tuning simply starts again); writes go to a temporary file renamed over the old one, so a reader never sees
 * half a file.
 */
export class FileTuneStore implements TuneStore {
  constructor(
    readonly path: string,
    private readonly fs: NodeFs,
  ) {}

  private readAll(): Record<string, Record<string, string>> {
    try {
      const parsed: unknown = JSON.parse(this.fs.readFileSync(this.path, 'utf8'));
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, Record<string, string>>) : {};
    } catch {
      return {};
    }
  }

  load(adapter: string): Record<string, string> {
    const entry = this.readAll()[adapter];
    return entry && typeof entry === 'object' ? { ...entry } : {};
  }

  save(adapter: string, choices: Record<string, string>): void {
    const all = this.readAll();
    all[adapter] = choices;
    const dir = this.path.slice(0, Math.max(0, this.path.lastIndexOf('/')));
    if (dir) this.fs.mkdirSync(dir, { recursive: true });
    const temp = `${this.path}.${nodeProcess()?.pid ?? 0}.tmp`;
    this.fs.writeFileSync(temp, `${JSON.stringify(all, null, 2)}\n`);
    this.fs.renameSync(temp, this.path);
  }
}

/**
 * The Node default: `$NEPHRON_TUNE_CACHE`, else `$XDG_CACHE_HOME/nephron/autotune.json`, else
 * `~/.cache/nephron/autotune.json`. Null outside Node.
 */
export function defaultTunePath(): string | null {
  const p = nodeProcess();
  if (!p) return null;
  const env = p.env;
  if (env.NEPHRON_TUNE_CACHE) return env.NEPHRON_TUNE_CACHE;
  const cache = env.XDG_CACHE_HOME || (env.HOME ? `${env.HOME}/.cache` : null);
  return cache ? `${cache}/nephron/autotune.json` : null;
}

function defaultStore(): TuneStore {
  const p = nodeProcess();
  const fs = p?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
  const path = defaultTunePath();
  return fs && path ? new FileTuneStore(path, fs) : new MemoryTuneStore();
}

/** What an op hands the tuner: its candidates for one shape class, and how to time one. */
export interface TuneJob<T> {
  /** e.g. 'matmul', 'conv2d.forward'. */
  op: string;
  /** Shapes that share a choice, e.g. sizes rounded to powers of two. */
  shapeClass: string;
  candidates: readonly T[];
  /** A stable name for a candidate (stored on disk, shown in benchmarks). */
  key: (candidate: T) => string;
  /**
   * Makes inputs of this shape class and returns a function that records one run with the given candidate
   * (dispatches only: the tuner waits for the GPU), plus a cleanup.
   */
  prepare: () => { run: (candidate: T) => void; dispose: () => void };
}

export interface AutotuneOptions {
  enabled?: boolean;
  store?: TuneStore;
  /** Time a job may take before its remaining candidates are skipped (compiles included). */
  budgetMs?: number;
}

export function adapterKey(): string {
  const info = getEngine().gpu.info;
  return [info.vendor, info.architecture, info.device, info.description, info.backend].join('|');
}

export class Autotuner {
  enabled: boolean;
  budgetMs: number;
  private store: TuneStore | null;
  /** adapter → (op|class → candidate key); filled from the store on first use of an adapter. */
  private readonly choices = new Map<string, Record<string, string>>();
  private readonly queued = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  /** The key each op ran last, for benchmarks and `doctor`. */
  readonly last = new Map<string, string>();

  constructor(options: AutotuneOptions = {}) {
    this.enabled = options.enabled ?? nodeProcess()?.env.NEPHRON_AUTOTUNE === '1';
    this.store = options.store ?? null;
    this.budgetMs = options.budgetMs ?? 1500;
  }

  configure(options: AutotuneOptions): void {
    if (options.enabled !== undefined) this.enabled = options.enabled;
    if (options.budgetMs !== undefined) this.budgetMs = options.budgetMs;
    if (options.store) {
      this.store = options.store;
      this.choices.clear();
    }
  }

  private storeOrDefault(): TuneStore {
    if (!this.store) this.store = defaultStore();
    return this.store;
  }

  private table(adapter: string): Record<string, string> {
    let table = this.choices.get(adapter);
    if (!table) {
      table = this.storeOrDefault().load(adapter);
      this.choices.set(adapter, table);
    }
    return table;
  }

  /**
   * The candidate to run: the tuned one when this adapter has timed this shape class, `fallback` otherwise
   * (queueing a tuning job when tuning is on).
   */
  choose<T>(job: TuneJob<T>, fallback: T): T {
    let chosen = fallback;
    const id = `${job.op}|${job.shapeClass}`;
    if (this.enabled) {
      const adapter = adapterKey();
      const known = this.table(adapter)[id];
      const match = known === undefined ? undefined : job.candidates.find((c) => job.key(c) === known);
      if (match !== undefined) chosen = match;
      else if (!this.queued.has(`${adapter}#${id}`)) {
        this.queued.add(`${adapter}#${id}`);
        this.queue = this.queue.then(() =>
          this.tune(adapter, id, job, fallback).catch((error: unknown) => {
            console.warn(`nephron: autotuning ${id} failed: ${String(error)}`);
          }),
        );
      }
    }
    this.last.set(job.op, job.key(chosen));
    return chosen;
  }

  /** Resolves when every queued tuning job has finished (benchmarks call it after a warm-up run). */
  settle(): Promise<void> {
    return this.queue;
  }

  /** Choices known for the current adapter. */
  known(): Record<string, string> {
    return { ...this.table(adapterKey()) };
  }

  private async tune<T>(adapter: string, id: string, job: TuneJob<T>, fallback: T): Promise<void> {
    const engine = getEngine();
    await engine.sync();
    const start = performance.now();
    const { run, dispose } = job.prepare();
    let best: { key: string; ms: number } | null = null;
    try {
      // The fallback first: the real call has compiled it already, and it is the best guess should the budget
      // run out.
      const order = [fallback, ...job.candidates.filter((c) => job.key(c) !== job.key(fallback))];
      for (const candidate of order) {
        if (best && performance.now() - start > this.budgetMs) break;
        run(candidate); // compiles the pipeline and warms the caches
        await engine.sync();
        // The faster of two runs: a CPU adapter shares its cores, and one stall must not decide.
        let ms = Number.POSITIVE_INFINITY;
        for (let rep = 0; rep < 2; rep++) {
          const t0 = performance.now();
          run(candidate);
          await engine.sync();
          ms = Math.min(ms, performance.now() - t0);
        }
        if (!best || ms < best.ms) best = { key: job.key(candidate), ms };
      }
    } finally {
      dispose();
    }
    if (!best) return;
    const table = this.table(adapter);
    table[id] = best.key;
    this.storeOrDefault().save(adapter, table);
  }
}

/** The process-wide tuner the ops consult. */
export const autotuner = new Autotuner();

/** Turns tuning on or off, or swaps where choices are kept. */
export function setAutotune(options: AutotuneOptions): void {
  autotuner.configure(options);
}

/** Waits for queued tuning jobs. */
export function settleAutotune(): Promise<void> {
  return autotuner.settle();
}

/** A size rounded up to a power of two: shapes within a factor of two share a tuning choice. */
export function sizeClass(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}
