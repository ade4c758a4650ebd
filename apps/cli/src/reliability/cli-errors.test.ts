import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_TRAIN_CONFIG,
  modelMetadata,
  serializeCheckpoint,
  writeSyntheticDataset,
} from '@nephron/hubmap';
import { AdamW, CosineAnnealingWarmRestarts, Linear, manualSeedInit, saveSafetensors } from '@nephron/nn';
import { init } from '@nephron/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BadInputRow, docSection } from '../../../../docs/bad-input-table.js';
import { assertCliBuilt, JS_STACK_FRAME, runBuiltCli } from '../testing/built-cli.js';

/**
 * The main error paths of train, predict, merge and score through the built binary: one message that
 * names the file and the problem, exit 1 (or 2 for a usage mistake), no stack trace and no "--debug" hint
 * (the error explains itself), and no output written. `--debug` brings the stack trace back.
 */

interface CliCase extends BadInputRow {
  /** The command line; `dir` is the case's own folder, `root` holds the shared dataset and weights. */
  args(dir: string): string[];
  /** Puts the case's input in place. */
  setup?(dir: string): void;
  /** The path the message must name. */
  names(dir: string): string;
  code: 1 | 2;
}

const root = mkdtempSync(join(tmpdir(), 'nephron-cli-errors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = join(root, 'data');
/** A plain folder holding one slide. */
const slides = join(root, 'slides');
/** A checkpoint and a model file for a network that is not the UNet the commands build. */
const foreignCheckpoint = join(root, 'foreign-last.safetensors');
const foreignModel = join(root, 'foreign-model.safetensors');

const train = (out: string, ...more: string[]) => [
  'train',
  ...['--data', data, '--out', out, '--encoder', 'efficientnet-b0', '--tile', '32', '--downscale', '2'],
  ...more,
];
const predict = (model: string, images: string, out: string) => [
  'predict',
  ...['--model', model, '--images', images, '--out', out],
];
const run = (dir: string) => join(dir, 'run');
const checkpoint = (dir: string) => join(dir, 'run', 'last.safetensors');

const cases: CliCase[] = [
  {
    name: 'train --resume without a checkpoint',
    input: 'an empty run folder',
    setup: (dir) => mkdirSync(run(dir), { recursive: true }),
    args: (dir) => train(run(dir), '--resume'),
    names: checkpoint,
    code: 2,
    expected: ['--resume: ', 'last.safetensors does not exist'],
  },
  {
    name: 'train --resume from a truncated checkpoint',
    input: 'last.safetensors cut to 1000 bytes',
    setup: (dir) => {
      mkdirSync(run(dir), { recursive: true });
      writeFileSync(checkpoint(dir), Buffer.alloc(1000, 7));
    },
    args: (dir) => train(run(dir), '--resume'),
    names: checkpoint,
    code: 1,
    expected: ['runs past the end of the file (1000 bytes)'],
  },
  {
    name: 'train --resume from a checkpoint of another model',
    input: 'last.safetensors of a Linear layer, written for efficientnet-b1',
    setup: (dir) => {
      mkdirSync(run(dir), { recursive: true });
      copyFileSync(foreignCheckpoint, checkpoint(dir));
    },
    args: (dir) => train(run(dir), '--resume'),
    names: checkpoint,
    code: 1,
    expected: [
      'the model does not fit it (it was written for encoder efficientnet-b1)',
      'unexpected keys: weight, bias',
    ],
  },
  {
    name: 'train --resume from a model file',
    input: 'model.safetensors copied to last.safetensors',
    setup: (dir) => {
      mkdirSync(run(dir), { recursive: true });
      copyFileSync(foreignModel, checkpoint(dir));
    },
    args: (dir) => train(run(dir), '--resume'),
    names: checkpoint,
    code: 1,
    expected: ['not a nephron training checkpoint (metadata format "nephron-model-1")'],
  },
  {
    name: 'train --init from a text file',
    input: '`--init notes.txt` holding "hello, world"',
    setup: (dir) => writeFileSync(join(dir, 'notes.txt'), 'hello, world'),
    args: (dir) => train(run(dir), '--init', join(dir, 'notes.txt')),
    names: (dir) => join(dir, 'notes.txt'),
    code: 1,
    expected: ['runs past the end of the file (12 bytes)'],
  },
  {
    name: 'predict from a training checkpoint',
    input: '`--model last.safetensors`',
    args: (dir) => predict(foreignCheckpoint, slides, join(dir, 'out.csv')),
    names: () => foreignCheckpoint,
    code: 1,
    expected: ["a training checkpoint (last.safetensors), not a model; use the run's model.safetensors"],
  },
  {
    name: 'predict with a model that does not fit',
    input: 'a Linear layer saved with efficientnet-b0 metadata',
    args: (dir) => predict(foreignModel, slides, join(dir, 'out.csv')),
    names: () => foreignModel,
    code: 1,
    expected: ['does not fit a UNet on efficientnet-b0 with 2 classes', 'unexpected keys: weight, bias'],
  },
  {
    name: 'predict a missing model',
    input: '`--model missing.safetensors`',
    args: (dir) => predict(join(dir, 'missing.safetensors'), slides, join(dir, 'out.csv')),
    names: (dir) => join(dir, 'missing.safetensors'),
    code: 1,
    expected: ['cannot read (no such file or folder)'],
  },
  {
    name: 'predict an empty test split',
    input: 'a dataset whose test/ is empty and sample_submission.csv has only its header',
    args: (dir) => predict(foreignModel, data, join(dir, 'out.csv')),
    names: () => data,
    code: 2,
    expected: [
      '--images ',
      'the test split is empty (no slides in test/ or sample_submission.csv); nothing to predict',
    ],
  },
  {
    name: 'predict a folder without slides',
    input: 'a folder holding only notes.txt',
    setup: (dir) => writeFileSync(join(dir, 'notes.txt'), 'no slides here'),
    args: (dir) => predict(foreignModel, dir, join(dir, 'out.csv')),
    names: (dir) => dir,
    code: 2,
    expected: ['--images ', 'no .tiff slides and no test/ folder; nothing to predict'],
  },
  {
    name: 'merge a missing part',
    input: '`merge part-0.csv` that does not exist',
    args: (dir) => ['merge', join(dir, 'part-0.csv'), '--out', join(dir, 'out.csv')],
    names: (dir) => join(dir, 'part-0.csv'),
    code: 1,
    expected: ['cannot read (no such file or folder)'],
  },
  {
    name: 'score a malformed submission',
    input: 'a quote left open on line 2',
    setup: (dir) => writeFileSync(join(dir, 'pred.csv'), 'id,predicted\nabc,"1 2\n'),
    args: (dir) => ['score', '--pred', join(dir, 'pred.csv'), '--truth', join(data, 'solution.csv')],
    names: (dir) => join(dir, 'pred.csv'),
    code: 1,
    expected: ['line 2: a quoted field is not closed before the end of the file'],
  },
];

beforeAll(async () => {
  assertCliBuilt();
  await init();
  const written = await writeSyntheticDataset(data, {
    trainImages: 1,
    testImages: 0,
    width: 96,
    height: 64,
    seed: 5,
  });
  mkdirSync(slides);
  const id = written.images[0].id;
  copyFileSync(join(data, 'train', `${id}.tiff`), join(slides, `${id}.tiff`));
  manualSeedInit(5);
  const layer = new Linear(3, 2);
  const optimizer = new AdamW(layer.parameters(), { lr: 1e-3 });
  const scheduler = new CosineAnnealingWarmRestarts(optimizer as never, { T_0: 5 });
  writeFileSync(
    foreignCheckpoint,
    await serializeCheckpoint({
      model: layer,
      optimizer,
      scheduler,
      progress: { epoch: 1, step: 0, globalStep: 4, bestDice: null },
      config: { ...DEFAULT_TRAIN_CONFIG, encoder: 'efficientnet-b1' },
    }),
  );
  const config = { ...DEFAULT_TRAIN_CONFIG, encoder: 'efficientnet-b0' };
  writeFileSync(
    foreignModel,
    await saveSafetensors(layer.stateDict(), { metadata: modelMetadata(config, null) }),
  );
}, 300_000);

describe('CLI error paths', () => {
  for (const [k, c] of cases.entries()) {
    it(`${c.name}: exit ${c.code}, names the file, no stack trace, nothing written`, () => {
      const dir = join(root, `case-${k}`);
      mkdirSync(dir, { recursive: true });
      c.setup?.(dir);
      const before = readdirSync(dir, { recursive: true }).sort();
      const result = runBuiltCli(c.args(dir), {}, 300_000);
      const message = result.stderr
        .split('\n')
        .filter((line) => !line.startsWith('Warning: '))
        .join('\n');
      expect(result.code, message).toBe(c.code);
      expect(message).toMatch(/^nephron: /);
      expect(message).toContain(c.names(dir));
      let at = 0;
      for (const part of c.expected) {
        const found = message.indexOf(part, at);
        expect(found, `"${part}" (in order) in: ${message}`).toBeGreaterThanOrEqual(0);
        at = found + part.length;
      }
      expect(message).not.toMatch(JS_STACK_FRAME);
      expect(message).not.toContain('--debug');
      expect(result.stdout).toBe('');
      expect(readdirSync(dir, { recursive: true }).sort()).toEqual(before);
    }, 300_000);
  }

  it('--debug shows the stack trace', () => {
    const dir = join(root, 'case-debug');
    mkdirSync(dir);
    const result = runBuiltCli(['--debug', 'merge', join(dir, 'part-0.csv'), '--out', join(dir, 'out.csv')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`nephron: FileError: ${join(dir, 'part-0.csv')}: cannot read`);
    expect(result.stderr).toMatch(JS_STACK_FRAME);
    expect(existsSync(join(dir, 'out.csv'))).toBe(false);
  });

  it('docs/bad-input.md lists exactly these cases', () => {
    const { inDoc, rendered } = docSection('cli', cases);
    expect(inDoc).toBe(rendered);
  });
});
