import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trainConvnet } from './train-convnet.js';

describe('the README example', () => {
  it('trains a small convnet with @nephron/tensor alone', async () => {
    const { before, after, loss } = await trainConvnet();
    expect(after).toBeGreaterThan(0.9);
    expect(after).toBeGreaterThan(before);
    expect(loss).toBeLessThan(0.4);
  });
  it('is the code the README shows', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('./train-convnet.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());
  });
});
