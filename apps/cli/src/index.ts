export { createProgram, runCli } from './cli.js';
export type { CommandContext } from './context.js';
export { ExitCode, type Host, type OutputStream } from './host/host.js';
export { createNodeHost } from './host/node-host.js';
export { VERSION } from './version.js';
