import type { OutputStream } from './host.js';

/** A progress bar for work longer than a few seconds: rate and ETA on a terminal, sparse lines elsewhere. */
export interface Progress {
  update(done: number, detail?: string): void;
  stop(): void;
}

export type ProgressFactory = (label: string, total: number, unit: string) => Progress;

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/**
 * Progress as plain lines, for pipes, CI logs and the browser console: one line at most every `everyMs`, and at the
 * end, so logs stay readable.
 */
export function lineProgress(out: OutputStream, everyMs = 10_000): ProgressFactory {
  return (label, total, unit) => {
    const started = performance.now();
    // The first line waits a full interval too, so its rate means something.
    let last = started;
    let done = 0;
    const line = (detail?: string) => {
      const elapsed = (performance.now() - started) / 1000;
      const rate = done / Math.max(elapsed, 1e-9);
      const eta = (total - done) / rate;
      out.write(
        `${label}: ${done}/${total} ${unit} (${rate.toFixed(2)} ${unit}/s, ETA ${formatSeconds(eta)})${detail ? ` ${detail}` : ''}\n`,
      );
    };
    return {
      update(n, detail) {
        done = n;
        const now = performance.now();
        if (now - last >= everyMs || n >= total) {
          last = now;
          line(detail);
        }
      },
      stop() {
        if (done < total) line('stopped');
      },
    };
  };
}
