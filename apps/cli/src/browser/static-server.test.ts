import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StaticServer, serveFolder } from './static-server.js';

describe('serveFolder', () => {
  let parent: string;
  let server: StaticServer;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'nephron-serve-'));
    await mkdir(join(parent, 'site', 'assets'), { recursive: true });
    await writeFile(join(parent, 'site', 'index.html'), '<p>home</p>');
    await writeFile(join(parent, 'site', 'assets', 'page.js'), 'export {};');
    await writeFile(join(parent, 'secret.txt'), 'outside');
    server = await serveFolder(join(parent, 'site'));
  });

  afterAll(async () => {
    await server.close();
    await rm(parent, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and serves index.html for /', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toBe('<p>home</p>');
  });

  it('serves modules as JavaScript', async () => {
    const response = await fetch(`${server.url}assets/page.js`);
    expect(response.headers.get('content-type')).toContain('text/javascript');
  });

  it('answers 404 for a missing file and never serves files outside the folder', async () => {
    expect((await fetch(`${server.url}nothing.js`)).status).toBe(404);
    expect((await fetch(`${server.url}..%2fsecret.txt`)).status).toBe(403);
  });
});
