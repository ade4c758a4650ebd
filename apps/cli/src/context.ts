import type { ExitCode, Host } from './host/host.js';

/** What every command receives when it is registered: the host, and where to leave its exit code. */
export interface CommandContext {
  readonly host: Host;
  setExitCode(code: ExitCode): void;
}
