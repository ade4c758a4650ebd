import { Engine, getEngine, setEngine } from '@nephron/tensor';
import type { Host } from './host/host.js';

/** The tensor engine on the host's GPU, opened once per process (commands that compute share it). */
export async function openEngine(host: Host): Promise<Engine> {
  try {
    return getEngine();
  } catch {
    const engine = new Engine(await host.requestDevice());
    setEngine(engine);
    return engine;
  }
}
