import type { RunFolder } from '@nephron/hubmap';
import type { HostFiles } from './files.js';
import { readFileBytes } from './files.js';

/** A training/prediction output folder on the host's files (atomic writes; missing files read as undefined). */
export function hostRunFolder(files: HostFiles, dir: string): RunFolder {
  const join = (file: string) => `${dir.replace(/\/+$/, '')}/${file}`;
  return {
    name: dir,
    write: (file, data) => files.write(join(file), data),
    async read(file) {
      const slash = file.lastIndexOf('/');
      const listing = await files.list(slash < 0 ? dir : join(file.slice(0, slash)));
      if (!listing?.includes(file.slice(slash + 1))) return undefined;
      return readFileBytes(files, join(file));
    },
  };
}
