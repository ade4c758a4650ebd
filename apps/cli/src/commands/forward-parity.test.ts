import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToFloat32, parseSafetensors, saveSafetensors, Unet } from '@nephron/nn';
import { ruleInput, ruleStateDict } from '@nephron/nn/testing';
import { init, tensor } from '@nephron/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { memoryHost } from '../testing/memory-host.js';

const fixtures = (name: string) =>
  fileURLToPath(new URL(`../../../../packages/nn/fixtures/${name}`, import.meta.url));

beforeAll(async () => {
  await init();
});

describe('nephron forward against PyTorch', () => {
  it("reproduces PyTorch's logits for an smp-keyed UNet-EfficientNet-B4 checkpoint", async () => {
    const meta = JSON.parse(readFileSync(fixtures('unet-efficientnet-b4.json'), 'utf8'));
    const entry = parseSafetensors(
      new Uint8Array(readFileSync(fixtures('unet-efficientnet-b4.logits.safetensors'))),
    ).tensors.get('eval_logits')!;
    const expected = bytesToFloat32(entry.data, entry.dtype);
    // The checkpoint a PyTorch user would bring: smp's keys, the parity rule's weights (what PyTorch ran), no metadata.
    const shapes = new Map(
      (meta.keys as string[]).map((k, i) => [
        k,
        {
          shape: meta.shapes[i] as number[],
          dtype: meta.keys[i].endsWith('num_batches_tracked') ? 'int64' : 'float32',
        },
      ]),
    );
    const template = new Unet('efficientnet-b4', { classes: meta.classes });
    const sd = ruleStateDict(
      new Map([...template.stateDict()].map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype }])),
    );
    template.dispose();
    expect([...sd.keys()]).toEqual([...shapes.keys()]);
    const dir = mkdtempSync(join(tmpdir(), 'nephron-parity-'));
    writeFileSync(join(dir, 'b4.safetensors'), await saveSafetensors(sd));
    for (const t of sd.values()) t.dispose();
    const input = tensor(ruleInput(meta.batch, meta.size), [meta.batch, 3, meta.size, meta.size]);
    writeFileSync(join(dir, 'x.safetensors'), await saveSafetensors({ input }));

    const { host, stderr } = memoryHost();
    const args = [
      'forward',
      '--weights',
      join(dir, 'b4.safetensors'),
      '--input',
      join(dir, 'x.safetensors'),
      '--out',
      join(dir, 'y.safetensors'),
    ];
    expect(await runCli(args, host), stderr.text).toBe(0);
    const out = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'y.safetensors')))).tensors.get(
      'logits',
    )!;
    const got = bytesToFloat32(out.data, out.dtype);
    expect(got.length).toBe(expected.length);
    let scale = 0;
    let worst = 0;
    for (let i = 0; i < got.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      worst = Math.max(worst, Math.abs(got[i] - expected[i]));
    }
    // The tolerance of the nn parity test: 1e-4 of the logit scale, or 4x PyTorch float32's own error.
    expect(worst).toBeLessThanOrEqual(Math.max(1e-4 * Math.max(1, scale), 4 * meta.evalLogitsF32MaxAbsErr));
  });
});
