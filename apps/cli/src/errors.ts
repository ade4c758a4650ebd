/**
 * Errors whose message already tells the user what to do; a stack trace would only bury it. Everything
 * else is a bug or an unforeseen failure, and gets a hint that `--debug` shows where it happened.
 */
const SELF_EXPLAINING = new Set([
  'NoAdapterError',
  'DeviceLostError',
  'GpuError',
  'CsvError',
  'RleError',
  'ScoringError',
  'DatasetError',
  'TiffUnsupportedError',
  'FileError',
  'UsageError',
  'NonFiniteLossError',
  'SafetensorsError',
  'AnnotationError',
  'CheckpointError',
]);

/** The text shown for an error that ended a command: one message, or the stack trace when debugging. */
export function describeError(error: unknown, debug: boolean): string {
  if (!(error instanceof Error)) return `nephron: ${String(error)}\n`;
  if (debug) return `nephron: ${error.stack ?? error.message}\n`;
  const hint = SELF_EXPLAINING.has(error.name) ? '' : '\n(run again with --debug to see where it failed)';
  return `nephron: ${error.message}${hint}\n`;
}
