import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeStaleTemporaries, writeFileAtomic } from './write-file-atomic.js';

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('writeFileAtomic and removeStaleTemporaries', () => {
  it('writes the whole file under its name and leaves no temporary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nephron-atomic-'));
    await writeFileAtomic(join(dir, 'a.txt'), 'hello');
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });

  it("removes a killed writer's temporaries and keeps live writers' and other files", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nephron-stale-'));
    const dead = deadPid();
    const stale = `.last.safetensors.${dead}.m1abc.tmp`;
    const mine = `.report.html.${process.pid}.m1abd.tmp`;
    const others = ['last.safetensors', '.hidden', `x.${dead}.tmp`, `.a.${dead}.UPPER.tmp`];
    for (const name of [stale, mine, ...others]) writeFileSync(join(dir, name), 'x');
    expect(await removeStaleTemporaries(dir)).toEqual([stale]);
    expect(readdirSync(dir).sort()).toEqual([mine, ...others].sort());
    expect(await removeStaleTemporaries(join(dir, 'absent'))).toEqual([]);
  });
});
