import { describe, expect, it } from 'vitest';
import { deviceLossAdvice, outFolder } from './device-loss.js';

const LOST =
  'nephron: The GPU device was lost (unknown): A valid external Instance reference no longer exists.. Its tensors are gone; ' +
  'restart the run (training resumes from last.safetensors with --resume).\n';

describe('deviceLossAdvice', () => {
  it('gives the line that resumes a train run from its checkpoint, and says why the device went away', () => {
    const advice = deviceLossAdvice(['train', '--data', 'my data', '--out', 'run'], LOST, true);
    expect(advice).toContain("The browser's GPU process stopped");
    expect(advice).toContain(
      'To continue from run/last.safetensors, run:\n  ' + "train --data 'my data' --out run --resume",
    );
  });

  it('does not repeat --resume, and without a checkpoint says to start over', () => {
    expect(deviceLossAdvice(['train', '--out=r', '--resume'], LOST, true)).toContain(
      'train --out=r --resume',
    );
    expect(deviceLossAdvice(['train', '--out', 'run'], LOST, false)).toContain('No checkpoint was saved yet');
  });

  it('names the GPU process only for Chromium’s message, and stays quiet for other commands and failures', () => {
    const other = 'nephron: The GPU device was lost (unknown): device hung.\n';
    expect(deviceLossAdvice(['train', '--out', 'run'], other, false)).not.toContain('GPU process');
    expect(deviceLossAdvice(['predict', '--out', 'x.csv'], LOST, true)).toBeNull();
    expect(
      deviceLossAdvice(['train', '--out', 'run'], 'nephron: --tile must be a multiple of 32\n', true),
    ).toBeNull();
  });
});

describe('outFolder', () => {
  it('reads --out in both spellings', () => {
    expect(outFolder(['train', '--out', 'a'])).toBe('a');
    expect(outFolder(['train', '--out=b'])).toBe('b');
    expect(outFolder(['train'])).toBeUndefined();
  });
});
