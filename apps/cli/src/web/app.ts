import { runCli } from '../cli.js';
import { CommandLineError, commandArguments } from '../host/browser-command-line.js';
import type { BrowserFiles } from '../host/browser-files.js';
import { createBrowserHost } from '../host/browser-host.js';
import { ExitCode } from '../host/host.js';
import type { ConsoleView } from './console-view.js';
import { deviceLossAdvice, outFolder } from './device-loss.js';
import type { FilePanel } from './file-panel.js';

/** One command line as it ran: what the page's tests compare with the Node host's output. */
export interface RunResult {
  line: string;
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
  milliseconds: number;
}

/**
 * Runs command lines in the page, one after another, through the same `runCli` the terminal uses; only
 * the host differs. The body's `data-state` says `running` while any line is queued or running, `idle`
 * otherwise.
 */
export class NephronApp {
  readonly runs: RunResult[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  /** What the running command asked to be told when the user presses Stop. */
  private readonly interruptHandlers = new Set<() => void>();

  constructor(
    readonly files: BrowserFiles,
    private readonly view: ConsoleView,
    private readonly panel: FilePanel,
  ) {}

  run(line: string): Promise<RunResult> {
    this.pending++;
    document.body.dataset.state = 'running';
    const result = this.queue.then(() => this.execute(line));
    this.queue = result.catch(() => {});
    return result.finally(() => {
      if (--this.pending === 0) document.body.dataset.state = 'idle';
    });
  }

  /**
   * Asks the running command to stop, as Ctrl-C does in a terminal: commands that registered for it save
   * their state and end; the others run to the end. Returns whether any command was listening.
   */
  interrupt(): boolean {
    const handlers = [...this.interruptHandlers];
    this.interruptHandlers.clear();
    for (const handler of handlers) handler();
    if (handlers.length === 0 && this.pending > 0)
      this.view.note('this command cannot be stopped; it will finish by itself');
    return handlers.length > 0;
  }

  /** Shows what was picked and lists it. */
  async picked(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    const shown = paths.slice(0, 5).join(', ');
    this.view.note(
      `picked ${paths.length} file${paths.length === 1 ? '' : 's'}: ${shown}${paths.length > 5 ? ', …' : ''}`,
    );
    await this.panel.refresh();
  }

  note(text: string, kind: 'info' | 'error' = 'info'): void {
    this.view.note(text, kind);
  }

  async refresh(): Promise<void> {
    await this.panel.refresh();
  }

  /** A train run whose GPU device was lost gets the line that resumes it (see device-loss.ts). */
  private async adviseAfterDeviceLoss(argv: readonly string[], stderr: string): Promise<void> {
    const out = outFolder(argv);
    const checkpoint =
      out !== undefined && (await this.files.outputs.read(`${out}/last.safetensors`)) !== undefined;
    const advice = deviceLossAdvice(argv, stderr, checkpoint);
    if (advice) this.view.note(advice, 'error');
  }

  private async execute(line: string): Promise<RunResult> {
    const record = this.view.start(line);
    const started = performance.now();
    let argv: string[] = [];
    let code: number;
    try {
      argv = commandArguments(line);
      const host = createBrowserHost({
        stdout: record.stdout,
        stderr: record.stderr,
        files: this.files,
        progress: record.progress,
        onInterrupt: (handler) => {
          this.interruptHandlers.add(handler);
          return () => this.interruptHandlers.delete(handler);
        },
      });
      code = await runCli(argv, host);
    } catch (error) {
      // runCli turns every failure of a command into an exit code; what is left is a line that cannot be split.
      record.stderr.write(`nephron: ${(error as Error).message}\n`);
      code = error instanceof CommandLineError ? ExitCode.usage : ExitCode.failure;
    }
    this.interruptHandlers.clear();
    const milliseconds = performance.now() - started;
    record.finish(code, milliseconds);
    if (code === ExitCode.failure) await this.adviseAfterDeviceLoss(argv, record.stderr.text);
    await this.panel.refresh();
    const result = { line, argv, code, stdout: record.stdout.text, stderr: record.stderr.text, milliseconds };
    this.runs.push(result);
    return result;
  }
}
