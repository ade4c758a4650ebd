import { describe, expect, it } from 'vitest';
import type { EpochMetrics, StepRecord } from '../training/metrics.js';
import { memoryRunFolder } from '../training/run-folder.js';
import { runReportHtml } from './run-report.js';

const metrics: EpochMetrics[] = [
  { epoch: 0, trainLoss: 0.9, validationDice: 0.5, lr: 1e-3, steps: 2, seconds: 1 },
  { epoch: 1, trainLoss: 0.6, validationDice: 0.7, lr: 5e-4, steps: 2, seconds: 1 },
];
const steps: StepRecord[] = [0, 1, 2, 3].map((g) => ({
  epoch: Math.floor(g / 2),
  step: g % 2,
  globalStep: g,
  loss: 1 - g / 10,
  lr: 1e-3 / (g + 1),
}));
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

describe('runReportHtml', () => {
  it('shows every epoch and the validation slides listed in validation.json', async () => {
    const run = memoryRunFolder();
    await run.write('validation.json', JSON.stringify([{ id: 'slide-a', dice: 0.7123, epoch: 1 }]));
    await run.write('validation/slide-a.png', PNG);
    const html = await runReportHtml(run, { title: 'a <run>', metrics, steps, config: { lr: 1e-3 } });
    expect(html).toContain('<title>a &lt;run&gt;</title>');
    expect(html).toContain('slide-a — Dice 0.712');
    expect(html).toContain('predicted by the saved model (epoch 2)');
    expect(html).toContain(`data:image/png;base64,${btoa(String.fromCharCode(...PNG))}`);
    expect(html.match(/<tr><td>\d+<\/td>/g)).toHaveLength(2);
    // Per-step loss and learning rate have a point per step; epoch-mean loss and Dice one per epoch.
    const lines = [...html.matchAll(/<polyline[^>]* points="([^"]*)"/g)].map((m) => m[1].split(' ').length);
    expect(lines.sort()).toEqual([2, 2, 4, 4]);
  });

  it('says how to get validation pictures when no slide was held out', async () => {
    const html = await runReportHtml(memoryRunFolder(), { title: 't', metrics, steps, config: {} });
    expect(html).toContain('none held out');
    expect(html).not.toContain('data:image/png');
  });
});
