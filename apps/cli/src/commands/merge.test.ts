import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { memoryHost } from '../testing/memory-host.js';

describe('merge', () => {
  let dir: string;
  const run = async (...argv: string[]) => {
    const { host, stdout, stderr } = memoryHost();
    return { code: await runCli(argv, host), stdout: stdout.text, stderr: stderr.text };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nephron-merge-'));
    await writeFile(join(dir, 'a.csv'), 'id,predicted\nbbb,1 2\n');
    await writeFile(join(dir, 'b.csv'), 'id,predicted\naaa,5 3\nccc,\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('joins shards sorted by id, says so on stderr, as JSON with --json and not at all with --quiet', async () => {
    const shards = [join(dir, 'a.csv'), join(dir, 'b.csv')];
    const out = join(dir, 'merged.csv');
    expect(await run('merge', ...shards, '--out', out)).toEqual({
      code: 0,
      stdout: '',
      stderr: `merged 3 image(s) from 2 shard(s) into ${out}\n`,
    });
    expect(await readFile(out, 'utf8')).toBe('id,predicted\naaa,5 3\nbbb,1 2\nccc,\n');
    expect(await run('merge', ...shards, '--out', out, '--json')).toEqual({
      code: 0,
      stdout: `${JSON.stringify({ out, images: 3, shards: 2 })}\n`,
      stderr: '',
    });
    expect(await run('merge', ...shards, '--out', out, '--quiet')).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
  });

  it('refuses an id in two shards with exit code 2, writing nothing', async () => {
    const out = join(dir, 'twice.csv');
    const result = await run('merge', join(dir, 'a.csv'), join(dir, 'a.csv'), '--out', out);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`image bbb is in both ${join(dir, 'a.csv')} and ${join(dir, 'a.csv')}`);
    await expect(readFile(out)).rejects.toThrow();
  });
});
