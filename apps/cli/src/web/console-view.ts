import type { OutputStream } from '../host/host.js';
import type { Progress, ProgressFactory } from '../host/progress.js';

/** One command line's output as the console shows it and keeps it (the page's tests read `text`). */
export interface RunRecord {
  stdout: OutputStream & { readonly text: string };
  stderr: OutputStream & { readonly text: string };
  /** Progress bars of the command, shown under its output. */
  progress: ProgressFactory;
  finish(code: number, milliseconds: number): void;
}

/**
 * A terminal-like log: each command line, then what it wrote, stderr in its own colour, then its exit
 * code. Output is plain text (streams say they are not a TTY), so commands print no colour codes or
 * redrawn progress bars that an element could not show.
 */
export class ConsoleView {
  constructor(private readonly log: HTMLElement) {}

  /** A note from the page itself (what was picked, a line that could not be split). */
  note(text: string, kind: 'info' | 'error' = 'info'): void {
    const element = document.createElement('p');
    element.className = `note ${kind}`;
    element.textContent = text;
    this.append(element);
  }

  /** Starts the record of one command line. */
  start(line: string): RunRecord {
    const article = document.createElement('article');
    article.className = 'run';
    article.dataset.state = 'running';
    const prompt = document.createElement('div');
    prompt.className = 'line';
    prompt.textContent = `$ nephron ${line}`;
    const out = document.createElement('pre');
    out.className = 'out';
    const status = document.createElement('div');
    status.className = 'status';
    status.textContent = 'running…';
    article.append(prompt, out, status);
    this.append(article);

    const stream = (kind: 'stdout' | 'stderr') => {
      let text = '';
      return {
        isTTY: false,
        write: (chunk: string) => {
          text += chunk;
          const piece = document.createElement('span');
          piece.className = kind;
          piece.textContent = chunk;
          out.append(piece);
          this.scroll();
        },
        get text() {
          return text;
        },
      };
    };
    return {
      stdout: stream('stdout'),
      stderr: stream('stderr'),
      progress: (label, total, unit) => {
        const bar = progressBar(label, total, unit);
        article.insertBefore(bar.element, status);
        this.scroll();
        return bar;
      },
      finish: (code, milliseconds) => {
        article.dataset.state = 'done';
        article.dataset.code = String(code);
        if (out.childNodes.length === 0) out.remove();
        const seconds =
          milliseconds < 1000 ? `${Math.round(milliseconds)} ms` : `${(milliseconds / 1000).toFixed(1)} s`;
        status.textContent = `exit ${code} · ${seconds}`;
        this.scroll();
      },
    };
  }

  clear(): void {
    this.log.replaceChildren();
  }

  private append(element: HTMLElement): void {
    this.log.append(element);
    this.scroll();
  }

  private scroll(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }
}

/** Up and down arrows walk through earlier lines, as in a shell. */
export class History {
  private readonly lines: string[] = [];
  private position = 0;

  add(line: string): void {
    if (line !== this.lines.at(-1)) this.lines.push(line);
    this.position = this.lines.length;
  }

  previous(): string | undefined {
    if (this.position === 0) return this.lines[0];
    return this.lines[--this.position];
  }

  next(): string {
    this.position = Math.min(this.lines.length, this.position + 1);
    return this.lines[this.position] ?? '';
  }
}

/** Seconds as people say them: 40s, 12m, 2.5h. */
function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

/** A `<progress>` element with the count, the rate and the time left beside it. */
function progressBar(label: string, total: number, unit: string): Progress & { element: HTMLElement } {
  const element = document.createElement('div');
  element.className = 'progress';
  const name = document.createElement('span');
  name.textContent = label;
  const bar = document.createElement('progress');
  bar.max = Math.max(total, 1);
  bar.value = 0;
  const text = document.createElement('span');
  element.append(name, bar, text);
  const started = performance.now();
  let done = 0;
  const show = (detail?: string) => {
    const rate = done / Math.max((performance.now() - started) / 1000, 1e-9);
    const eta = done > 0 ? ` · ETA ${duration((total - done) / rate)}` : '';
    text.textContent = `${done}/${total} ${unit} · ${rate.toFixed(2)} ${unit}/s${eta}${detail ? ` · ${detail}` : ''}`;
  };
  show();
  return {
    element,
    update(n, detail) {
      done = n;
      bar.value = n;
      show(detail);
    },
    stop() {
      element.dataset.state = done < total ? 'stopped' : 'done';
      if (done < total) show('stopped');
    },
  };
}
