import { Presets, SingleBar } from 'cli-progress';
import type { ProgressFactory } from './progress.js';

/** A live bar with rate and ETA on a Node terminal (cli-progress). */
export function terminalProgress(stream: NodeJS.WriteStream): ProgressFactory {
  return (label, total, unit) => {
    const bar = new SingleBar(
      {
        stream,
        format: `${label} [{bar}] {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted} {detail}`,
        hideCursor: true,
        etaBuffer: 20,
      },
      Presets.shades_classic,
    );
    const started = performance.now();
    bar.start(total, 0, { rate: '0', detail: '' });
    return {
      update(done, detail) {
        const rate = done / Math.max((performance.now() - started) / 1000, 1e-9);
        bar.update(done, { rate: rate.toFixed(2), detail: detail ?? '' });
      },
      stop() {
        bar.stop();
      },
    };
  };
}
