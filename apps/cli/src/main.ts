import { runCli } from './cli.js';
import { createNodeHost } from './host/node-host.js';

process.exitCode = await runCli(process.argv.slice(2), createNodeHost());
