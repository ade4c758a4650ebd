import { NoAdapterError, SOFTWARE_GPU_HELP } from './errors.js';

/** Whether this code runs in Node (as opposed to a browser or worker with `navigator.gpu`). */
export const isNode = typeof process !== 'undefined' && !!process.versions?.node;

let nodeGpu: Promise<GPU> | undefined;

/**
 * The `GPU` entry point of this host: `navigator.gpu` in a browser, Dawn (the `webgpu` package) in Node.
 * Dawn needs a private XDG_RUNTIME_DIR; a missing one is created rather than failing later inside Vulkan.
 */
export async function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode) throw new NoAdapterError(`This browser does not expose navigator.gpu.\n${SOFTWARE_GPU_HELP}`);
  nodeGpu ??= loadDawn();
  return nodeGpu;
}

async function loadDawn(): Promise<GPU> {
  await ensureRuntimeDir();
  // A variable module name keeps browser bundlers from trying to bundle the native addon.
  const name = 'webgpu';
  const dawn = (await import(/* @vite-ignore */ name)) as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  // Dawn's classes (GPUBufferUsage, GPUMapMode, ...) are what browser code expects as globals.
  for (const [key, value] of Object.entries(dawn.globals)) {
    if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
  }
  return dawn.create(dawnFlags());
}

function dawnFlags(): string[] {
  const flags: string[] = [];
  const backend = process.env.NEPHRON_BACKEND;
  if (backend) flags.push(`backend=${backend}`);
  // Dawn rounds timestamps to ~65 µs by default (a browser's guard against timing attacks); the profiler needs
  // them as the driver gives them.
  flags.push('disable-dawn-features=timestamp_quantization');
  return flags;
}

async function ensureRuntimeDir(): Promise<void> {
  if (process.env.XDG_RUNTIME_DIR) return;
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  process.env.XDG_RUNTIME_DIR = await mkdtemp(join(tmpdir(), 'nephron-xdg-'));
}
