// `pnpm --filter nephron run web`: builds the browser app and serves it on 127.0.0.1 (a secure context,
// which WebGPU needs). `web:build` only builds it: dist-web/ is a static folder any web server can host.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { APP_ROOT, buildPage } from './build-page.js';
import { serveFolder } from './static-server.js';

const DEFAULT_OUT = fileURLToPath(new URL('../../dist-web/', import.meta.url));

// `pnpm run web -- --port 8080` hands the script a leading `--`; options come after it.
const args = process.argv.slice(2);
const { values } = parseArgs({
  args: args[0] === '--' ? args.slice(1) : args,
  options: {
    'build-only': { type: 'boolean', default: false },
    out: { type: 'string', default: DEFAULT_OUT },
    port: { type: 'string', default: '5173' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`web: --port must be a port number (0 to 65535), got "${values.port}"`);
  process.exit(2);
}

await buildPage(APP_ROOT, values.out);
console.log(`built the nephron browser app into ${values.out}`);
if (!values['build-only']) {
  const server = await serveFolder(values.out, port);
  console.log(`serving it at ${server.url} (Ctrl+C stops)`);
}
