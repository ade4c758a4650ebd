import type { CosineAnnealingWarmRestarts, Module, OptimizerStateDict, ParamState } from '@nephron/nn';
import { loadSafetensors, saveSafetensors } from '@nephron/nn';
import { defaultGenerator, type Tensor } from '@nephron/tensor';

/** Where training stands: the next step to run is `step` of `epoch`. */
export interface Progress {
  epoch: number;
  step: number;
  globalStep: number;
  bestDice: number | null;
}

export interface CheckpointParts {
  model: Module;
  optimizer: { stateDict(): OptimizerStateDict; loadStateDict(sd: OptimizerStateDict): void };
  scheduler: CosineAnnealingWarmRestarts;
  progress: Progress;
  config: unknown;
}

/**
 * A weights file (a training checkpoint or a model) that is valid safetensors but not what was asked for:
 * it does not fit the model, is the other kind of file, or lacks what its header should say.
 */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const MODEL = 'model.';
const OPTIMIZER = 'optimizer.state.';

/**
 * `last.safetensors`: the model's state dict under `model.`, the optimizer's tensors under `optimizer.state.`, and
 * everything else (optimizer hyperparameters and counters, scheduler, random generator, progress, config) as JSON
 * in the header's metadata. One file, written atomically, is the whole run.
 */
export async function serializeCheckpoint(parts: CheckpointParts): Promise<Uint8Array> {
  const tensors = new Map<string, Tensor>();
  for (const [k, v] of parts.model.stateDict()) tensors.set(`${MODEL}${k}`, v);
  const sd = parts.optimizer.stateDict();
  const scalars: Record<string, Record<string, number>> = {};
  for (const [index, state] of sd.state) {
    for (const [key, v] of Object.entries(state)) {
      if (typeof v === 'number') {
        scalars[index] ??= {};
        scalars[index][key] = v;
      } else {
        tensors.set(`${OPTIMIZER}${index}.${key}`, v);
      }
    }
  }
  return saveSafetensors(tensors, {
    metadata: {
      format: 'nephron-checkpoint-1',
      optimizer: JSON.stringify({ paramGroups: sd.paramGroups, scalars }),
      scheduler: JSON.stringify(parts.scheduler.stateDict()),
      generator: JSON.stringify(defaultGenerator().getState()),
      progress: JSON.stringify(parts.progress),
      config: JSON.stringify(parts.config),
    },
  });
}

/**
 * Restores a checkpoint into live objects; returns the progress and config it held. Every error names
 * `source` (the file), and a model that does not fit says which encoder the checkpoint was written for.
 */
export function restoreCheckpoint(
  bytes: Uint8Array,
  source: string,
  parts: Omit<CheckpointParts, 'progress' | 'config'>,
): { progress: Progress; config: unknown } {
  const { tensors, metadata } = loadSafetensors(bytes, source);
  try {
    if (metadata.format !== 'nephron-checkpoint-1') {
      throw new CheckpointError(
        `${source}: not a nephron training checkpoint (metadata format "${metadata.format}")`,
      );
    }
    const json = (key: string): unknown => {
      try {
        return JSON.parse(metadata[key] ?? '');
      } catch {
        throw new CheckpointError(`${source}: metadata "${key}" is missing or not JSON`);
      }
    };
    const config = json('config');
    const progress = json('progress') as Progress;
    const within = <T>(what: string, load: () => T): T => {
      try {
        return load();
      } catch (error) {
        throw new CheckpointError(`${source}: ${what}: ${(error as Error).message}`);
      }
    };
    const model = new Map<string, Tensor>();
    const state = new Map<number, ParamState>();
    for (const [name, t] of tensors) {
      if (name.startsWith(MODEL)) model.set(name.slice(MODEL.length), t);
      else if (name.startsWith(OPTIMIZER)) {
        const rest = name.slice(OPTIMIZER.length);
        const dot = rest.indexOf('.');
        const index = Number(rest.slice(0, dot));
        const entry = state.get(index) ?? {};
        entry[rest.slice(dot + 1)] = t;
        state.set(index, entry);
      }
    }
    const encoder = (config as { encoder?: unknown } | null)?.encoder;
    within(
      `the model does not fit it${typeof encoder === 'string' ? ` (it was written for encoder ${encoder})` : ''}`,
      () => parts.model.loadStateDict(model, { strict: true }),
    );
    const saved = json('optimizer') as {
      paramGroups: OptimizerStateDict['paramGroups'];
      scalars: Record<string, Record<string, number>>;
    };
    within('the optimizer state does not fit', () => {
      for (const [index, values] of Object.entries(saved.scalars)) {
        const entry = state.get(Number(index)) ?? {};
        Object.assign(entry, values);
        state.set(Number(index), entry);
      }
      parts.optimizer.loadStateDict({ state, paramGroups: saved.paramGroups });
    });
    const scheduler = json('scheduler');
    within('the scheduler state does not fit', () => parts.scheduler.loadStateDict(scheduler as never));
    const generator = json('generator');
    within('the random generator state does not fit', () => defaultGenerator().setState(generator as never));
    return { progress, config };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
