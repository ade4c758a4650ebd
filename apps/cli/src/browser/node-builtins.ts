import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

/** `events` is a dependency of this package, not of commander: resolve it from here. */
const HERE = fileURLToPath(import.meta.url);

const PREFIX = '\0nephron-node:';

/**
 * What a page gets for `node:process`: the few members that commander reads, saying what is true in a
 * page (no terminal, no environment variables, no script path). Exported by name too, because commander
 * `require`s the module and reads members off what it gets.
 */
const PROCESS_SOURCE = `
export const env = {};
export const argv = [];
export const execArgv = [];
export const versions = {};
export const platform = 'browser';
export const exitCode = undefined;
export const stdout = { isTTY: false };
export const stderr = { isTTY: false };
export default { env, argv, execArgv, versions, platform, exitCode, stdout, stderr };
`;

/**
 * The module a page gets for any other `node:` built-in. Our packages import Node's modules lazily, on
 * paths only the Node host takes (a file on disk, the tile cache); some dependencies import them at the
 * top. Any name imported from the stub exists, so the bundle links; using one throws an error that names
 * it, so a Node-only path reached in a page fails loudly instead of misbehaving.
 */
function stubSource(module: string): string {
  return `
const unavailable = (name) => {
  throw new Error(\`${module}: \${name} is Node only and cannot run in a web page\`);
};
const member = (name) =>
  new Proxy(function () {}, {
    apply: () => unavailable(name),
    construct: () => unavailable(name),
    get: (_, key) => (typeof key === 'string' ? member(\`\${name}.\${key}\`) : undefined),
  });
export default new Proxy({}, {
  // Not thenable: \`await import('node:fs')\` must give the module, not call a stub.
  get: (_, key) => (typeof key === 'string' && key !== 'then' ? member(key) : undefined),
});
`;
}

/**
 * Resolves the `node:` imports of a browser bundle. `node:events` becomes the `events` package (the
 * EventEmitter that commander's Command extends) and `node:process` a page's idea of a process; every other
 * built-in becomes a stub (see stubSource) instead of failing the build.
 */
export function nodeBuiltins(): Plugin {
  return {
    name: 'nephron:node-builtins',
    enforce: 'pre',
    async resolveId(id) {
      if (!id.startsWith('node:')) return null;
      if (id === 'node:events') return this.resolve('events', HERE, { skipSelf: true });
      return `${PREFIX}${id}`;
    },
    load(id) {
      if (!id.startsWith(PREFIX)) return null;
      const module = id.slice(PREFIX.length);
      if (module === 'node:process') return PROCESS_SOURCE;
      return { code: stubSource(module), syntheticNamedExports: true };
    },
  };
}
