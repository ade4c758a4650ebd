import { FileError } from './files.js';

/**
 * A path as the browser host keys its files: segments joined by '/', without '.', '..' or empty parts.
 * A page has no working folder and no disk root, so `./mask.png`, `/mask.png` and `mask.png` all name the
 * file picked as mask.png, and `data/../mask.png` names it too.
 */
export function normalizePath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.replaceAll('\\', '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) throw new FileError(`${path}: reaches above the picked files`);
      segments.pop();
    } else {
      segments.push(segment);
    }
  }
  return segments.join('/');
}

/** The folder part and the name of a normalized path ('a/b/c.png' → ['a/b', 'c.png']). */
export function splitPath(path: string): [folder: string, name: string] {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? ['', path] : [path.slice(0, slash), path.slice(slash + 1)];
}
