import type { EpochMetrics } from '../training/metrics.js';
import { lineChart } from './svg-chart.js';

export interface ReportImage {
  title: string;
  png: Uint8Array;
}

export interface TrainingReportInput {
  title: string;
  metrics: readonly EpochMetrics[];
  /** Learning rate at each optimizer step, as [fractional epoch, lr]. */
  lrSchedule: readonly [number, number][];
  /** Training loss at each step, as [fractional epoch, loss]. */
  stepLosses?: readonly [number, number][];
  /** Slides with the prediction outlined. */
  samples: readonly ReportImage[];
  samplesTitle?: string;
  /** Settings shown in a table. */
  config: Record<string, unknown>;
  notes?: string[];
}

function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function escapeHtml(text: string): string {
  return text.replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string,
  );
}

/**
 * `report.html`: one self-contained page (inline SVG charts, images as data URLs) with the two plots the reference
 * solution showed — loss and Dice per epoch — the learning-rate schedule, and validation predictions on tissue.
 */
export function trainingReportHtml(input: TrainingReportInput): string {
  const loss = input.metrics
    .filter((m) => m.trainLoss !== null)
    .map((m) => [m.epoch + 1, m.trainLoss as number] as [number, number]);
  const dice = input.metrics
    .filter((m) => m.validationDice !== null)
    .map((m) => [m.epoch + 1, m.validationDice as number] as [number, number]);
  const lossChart = lineChart(
    [
      ...(input.stepLosses?.length
        ? [{ name: 'per step', colour: '#c8c8e8', points: input.stepLosses }]
        : []),
      { name: 'epoch mean', colour: '#3b4cc0', points: loss },
    ],
    { title: 'Training loss (CE + Dice)', xLabel: 'epoch', yLabel: 'loss' },
  );
  const diceChart = lineChart([{ name: 'validation Dice', colour: '#b40426', points: dice }], {
    title: 'Validation Dice',
    xLabel: 'epoch',
    yLabel: 'Dice',
    yRange: [0, 1],
  });
  const lrChart = lineChart([{ name: 'learning rate', colour: '#2a9d4a', points: input.lrSchedule }], {
    title: 'Learning rate (cosine annealing with warm restarts)',
    xLabel: 'epoch',
    yLabel: 'lr',
  });
  const rows = input.metrics
    .map(
      (m) =>
        `<tr><td>${m.epoch + 1}</td><td>${m.trainLoss?.toFixed(4) ?? '—'}</td><td>${m.validationDice?.toFixed(4) ?? '—'}</td><td>${m.lr.toExponential(2)}</td><td>${m.steps}</td><td>${m.seconds.toFixed(1)}</td></tr>`,
    )
    .join('\n');
  const config = Object.entries(input.config)
    .map(
      ([k, v]) =>
        `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(typeof v === 'object' ? JSON.stringify(v) : String(v))}</td></tr>`,
    )
    .join('\n');
  const samples = input.samples
    .map(
      (s) =>
        `<figure><img src="data:image/png;base64,${base64(s.png)}" alt="${escapeHtml(s.title)}"><figcaption>${escapeHtml(s.title)}</figcaption></figure>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
table { border-collapse: collapse; font-size: 13px; } td, th { border: 1px solid #ddd; padding: 4px 8px; text-align: right; }
th { text-align: left; background: #f6f6f6; }
figure { display: inline-block; margin: 8px; } figure img { max-width: 540px; border: 1px solid #ccc; }
figcaption { font-size: 13px; color: #555; }
table.config td { text-align: left; font-family: ui-monospace, monospace; word-break: break-all; max-width: 900px; }
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
${(input.notes ?? []).map((n) => `<p>${escapeHtml(n)}</p>`).join('\n')}
<div class="charts">${lossChart}${diceChart}${lrChart}</div>
<h2>Epochs</h2>
<table><tr><th>epoch</th><th>train loss</th><th>validation Dice</th><th>lr</th><th>steps</th><th>seconds</th></tr>
${rows}</table>
<h2>${escapeHtml(input.samplesTitle ?? 'Predictions')} (green outline: predicted glomeruli)</h2>
${samples || '<p>No slides were predicted.</p>'}
<h2>Configuration</h2>
<table class="config">${config}</table>
</body></html>
`;
}
