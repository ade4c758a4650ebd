/** One row of metrics.jsonl / metrics.csv. */
export interface EpochMetrics {
  epoch: number;
  trainLoss: number | null;
  validationDice: number | null;
  lr: number;
  steps: number;
  seconds: number;
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
