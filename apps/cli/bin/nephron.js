#!/usr/bin/env node
// Runs the compiled CLI (`tsc -b` writes dist/). Kept tiny so that it never needs building itself.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    'nephron: the CLI is not built yet. Run `pnpm build` (or `npx tsc -b`) in the repository root.\n',
  );
  process.exit(1);
}
await import(main.href);
