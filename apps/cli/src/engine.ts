import { Engine, getEngine, setEngine } from '@nephron/tensor';
import type { Host } from './host/host.js';

/**
 * The tensor engine on the host's GPU, opened once per process (commands that compute share it). A page lives on
 * after a command whose GPU device was lost (the browser reset its GPU process), so the next command opens a new
 * device instead of failing on the lost one.
 */
export async function openEngine(host: Host): Promise<Engine> {
  try {
    const engine = getEngine();
    if (!engine.gpu.lost) return engine;
    throw engine.gpu.lost;
  } catch {
    const engine = new Engine(await host.requestDevice());
    setEngine(engine);
    return engine;
  }
}
