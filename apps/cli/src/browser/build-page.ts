import { fileURLToPath } from 'node:url';
import { build, defaultClientConditions } from 'vite';
import { nodeBuiltins } from './node-builtins.js';

/** The harness page's source folder (index.html and its module). */
export const HARNESS_ROOT = fileURLToPath(new URL('../../src/browser/harness/', import.meta.url));

/** The browser app's source folder: the console where nephron's command lines run in a page. */
export const APP_ROOT = fileURLToPath(new URL('../../src/web/', import.meta.url));

/**
 * Bundles a page with Vite into `outDir`. Workspace packages resolve to their TypeScript sources through
 * the `@nephron/source` condition, so the page runs exactly the code that the Node tests run.
 */
export async function buildPage(root: string, outDir: string): Promise<void> {
  await build({
    configFile: false,
    root,
    base: './',
    logLevel: 'warn',
    plugins: [nodeBuiltins()],
    resolve: { conditions: ['@nephron/source', ...defaultClientConditions] },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: true,
      reportCompressedSize: false,
      rollupOptions: {
        onwarn(warning, warn) {
          // Packages import each other both ways on purpose (lazily on Node-only paths); saying so is noise.
          if (warning.message.includes('dynamic import will not move module into another chunk')) return;
          warn(warning);
        },
      },
    },
  });
}
