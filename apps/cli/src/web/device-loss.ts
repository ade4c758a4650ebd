import { commandLine } from './compose.js';

/**
 * What the page tells a user whose `train` lost its GPU device. Chromium loses a device with "A valid external
 * Instance reference no longer exists" when its GPU process has stopped (crashed, or ran out of memory), which says
 * nothing to a user. The page opens a new device for the next command, so the useful advice is the line that
 * continues the run from its last checkpoint, when there is one.
 */
export function deviceLossAdvice(
  argv: readonly string[],
  stderr: string,
  checkpoint: boolean,
): string | null {
  if (argv[0] !== 'train' || !stderr.includes('The GPU device was lost')) return null;
  const lines = ['The GPU device was lost in the middle of this run.'];
  if (stderr.includes('Instance reference no longer exists')) {
    lines.push(
      "The browser's GPU process stopped (it crashed or ran out of memory); that loses every WebGPU device of the page.",
    );
  }
  lines.push('The next command opens a new device.');
  const out = outFolder(argv);
  if (checkpoint && out !== undefined) {
    const resume = argv.includes('--resume') ? argv : [...argv, '--resume'];
    lines.push(`To continue from ${out}/last.safetensors, run:\n  ${commandLine(resume)}`);
  } else {
    lines.push('No checkpoint was saved yet: run the same line again to start over.');
  }
  return lines.join(' ');
}

/** The run folder of a train command line (`--out dir` or `--out=dir`). */
export function outFolder(argv: readonly string[]): string | undefined {
  for (const [i, word] of argv.entries()) {
    if (word === '--out') return argv[i + 1];
    if (word.startsWith('--out=')) return word.slice('--out='.length);
  }
  return undefined;
}
