/** One row of metrics.jsonl / metrics.csv. */
export interface EpochMetrics {
  epoch: number;
  trainLoss: number | null;
  validationDice: number | null;
  lr: number;
  steps: number;
  seconds: number;
}

/**
 * One line of steps.jsonl: the loss of one optimizer step. `globalStep` counts steps from 0 over the whole run.
 * A resumed run's lines continue the interrupted run's, so the file can be compared with an uninterrupted run's.
 */
export interface StepRecord {
  epoch: number;
  step: number;
  globalStep: number;
  loss: number;
  lr: number;
  /** Mixed precision: the loss scale of this step, and whether an overflow in its gradients skipped it. */
  lossScale?: number;
  skipped?: boolean;
}

export function stepsJsonl(rows: readonly StepRecord[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

export function metricsJsonl(rows: readonly EpochMetrics[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

export function metricsCsv(rows: readonly EpochMetrics[]): string {
  const header = 'epoch,train_loss,validation_dice,lr,steps,seconds';
  const cell = (v: number | null) => (v === null ? '' : String(v));
  return (
    [
      header,
      ...rows.map((r) =>
        [r.epoch, cell(r.trainLoss), cell(r.validationDice), r.lr, r.steps, r.seconds.toFixed(2)].join(','),
      ),
    ].join('\n') + '\n'
  );
}
