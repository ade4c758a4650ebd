import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSegmentationModel } from '@nephron/hubmap';
import { loadSafetensors, manualSeedInit, saveSafetensors } from '@nephron/nn';
import { init, keep, noGrad, randn, tidy } from '@nephron/tensor';
import { assertClose } from '@nephron/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { memoryHost } from '../testing/memory-host.js';

beforeAll(async () => {
  await init();
});

describe('nephron forward', () => {
  it('runs an smp-keyed checkpoint on `input`, finds the encoder from the keys, and writes `logits`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nephron-forward-'));
    manualSeedInit(3);
    const model = createSegmentationModel('efficientnet-b0', 2);
    model.eval();
    // A plain state dict, as smp would save it: no nephron metadata, so the architecture comes from the keys.
    writeFileSync(join(dir, 'w.safetensors'), await saveSafetensors(model.stateDict()));
    const input = randn([1, 3, 64, 64]);
    writeFileSync(join(dir, 'x.safetensors'), await saveSafetensors({ input }));
    const expected = noGrad(() => tidy(() => keep(model.forward(input))));

    const { host, stdout, stderr } = memoryHost();
    const code = await runCli(
      [
        'forward',
        '--weights',
        join(dir, 'w.safetensors'),
        '--input',
        join(dir, 'x.safetensors'),
        '--out',
        join(dir, 'y.safetensors'),
        '--json',
      ],
      host,
    );
    expect(code, stderr.text).toBe(0);
    expect(JSON.parse(stdout.text).shape).toEqual([1, 2, 64, 64]);
    const { tensors } = loadSafetensors(readFileSync(join(dir, 'y.safetensors')), 'y');
    assertClose(
      await tensors.get('logits')!.toArray(),
      await expected.toArray(),
      { rtol: 1e-5, atol: 1e-5 },
      'logits',
    );
  });

  it('names the problem when the input tensor is missing or badly shaped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nephron-forward-'));
    manualSeedInit(3);
    writeFileSync(
      join(dir, 'w.safetensors'),
      await saveSafetensors(createSegmentationModel('efficientnet-b0', 2).stateDict()),
    );
    writeFileSync(join(dir, 'x.safetensors'), await saveSafetensors({ image: randn([1, 3, 64, 64]) }));
    writeFileSync(join(dir, 'odd.safetensors'), await saveSafetensors({ input: randn([1, 3, 50, 64]) }));
    const missing = memoryHost();
    expect(
      await runCli(
        ['forward', '--weights', join(dir, 'w.safetensors'), '--input', join(dir, 'x.safetensors')],
        missing.host,
      ),
    ).toBe(2);
    expect(missing.stderr.text).toContain('holds no tensor named "input"');
    const odd = memoryHost();
    expect(
      await runCli(
        ['forward', '--weights', join(dir, 'w.safetensors'), '--input', join(dir, 'odd.safetensors')],
        odd.host,
      ),
    ).toBe(2);
    expect(odd.stderr.text).toContain('multiples of 32');
  });
});
