import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFiles } from './node-files.js';

describe('nodeFiles().write', () => {
  it('clears the temporaries a killed process left in a folder on its first write there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nephron-node-files-'));
    const dead = Number(
      spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout,
    );
    const stale = `.last.safetensors.${dead}.m1abc.tmp`;
    writeFileSync(join(dir, stale), 'half a checkpoint');
    const files = nodeFiles();
    await files.write(join(dir, 'steps.jsonl'), '{}\n');
    expect(readdirSync(dir)).toEqual(['steps.jsonl']);
    // Later writes in the folder do not list it again.
    writeFileSync(join(dir, stale), 'again');
    await files.write(join(dir, 'metrics.jsonl'), '{}\n');
    expect(readdirSync(dir).sort()).toEqual([stale, 'metrics.jsonl', 'steps.jsonl'].sort());
  });
});
