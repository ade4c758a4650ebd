import type { EpochMetrics, StepRecord } from '../training/metrics.js';
import type { RunFolder } from '../training/run-folder.js';
import { type ReportImage, trainingReportHtml } from './training-report.js';

/** One validation slide as the saved model predicted it: `validation/{id}.png` and its row in `validation.json`. */
export interface ValidationSample {
  id: string;
  dice: number;
  epoch: number;
}

export interface RunReportInput {
  title: string;
  metrics: readonly EpochMetrics[];
  steps: readonly StepRecord[];
  config: Record<string, unknown>;
  notes?: string[];
}

/** [fractional epoch at the end of each step, value]: the x axis of the per-step charts. */
function perStep(
  steps: readonly StepRecord[],
  metrics: readonly EpochMetrics[],
  value: (r: StepRecord) => number,
): [number, number][] {
  // An epoch still running has no metrics yet: its steps so far stand in for its length.
  const running = new Map<number, number>();
  for (const r of steps) running.set(r.epoch, Math.max(running.get(r.epoch) ?? 0, r.step + 1));
  const stepsIn = new Map([...running, ...metrics.map((m) => [m.epoch, m.steps] as [number, number])]);
  return steps.map((r) => [r.epoch + (r.step + 1) / (stepsIn.get(r.epoch) as number), value(r)]);
}

/**
 * `report.html` of a training run, from what the run folder holds: metrics, step records, and the validation slides
 * the saved model predicted (written by the trainer each time the model improves). Built from the folder rather than
 * from memory so a resumed run's report covers the whole run.
 */
export async function runReportHtml(run: RunFolder, input: RunReportInput): Promise<string> {
  const samples: ReportImage[] = [];
  const listing = await run.read('validation.json');
  const validation: ValidationSample[] = listing ? JSON.parse(new TextDecoder().decode(listing)) : [];
  for (const sample of validation) {
    const png = await run.read(`validation/${sample.id}.png`);
    if (png) samples.push({ title: `${sample.id} — Dice ${sample.dice.toFixed(3)}`, png });
  }
  const epochs = [...new Set(validation.map((s) => s.epoch + 1))];
  return trainingReportHtml({
    title: input.title,
    metrics: input.metrics,
    lrSchedule: perStep(input.steps, input.metrics, (r) => r.lr),
    stepLosses: perStep(input.steps, input.metrics, (r) => r.loss),
    samples,
    samplesTitle: samples.length
      ? `Validation slides, predicted by the saved model (epoch ${epochs.join(', ')})`
      : 'Validation slides (none held out: pass --validation or --folds to see predictions here)',
    config: input.config,
    notes: input.notes,
  });
}
