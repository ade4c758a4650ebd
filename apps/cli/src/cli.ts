import { Command, CommanderError } from 'commander';
import { registerBench } from './commands/bench.js';
import { registerCrop } from './commands/crop.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerForward } from './commands/forward.js';
import { registerInspect } from './commands/inspect.js';
import { registerMerge } from './commands/merge.js';
import { registerPredict } from './commands/predict.js';
import { registerRle } from './commands/rle.js';
import { registerScore } from './commands/score.js';
import { registerTrain } from './commands/train.js';
import type { CommandContext } from './context.js';
import { describeError } from './errors.js';
import { ExitCode, type Host } from './host/host.js';
import { VERSION } from './version.js';

const EXAMPLES = [
  '',
  'Examples:',
  '  $ nephron doctor             check that WebGPU works and run a kernel on it',
  '  $ nephron doctor --json      the same, as one JSON object for scripts',
  '  $ nephron help doctor        everything about one command',
  '',
  'Exit codes: 0 ok, 1 failure, 2 bad usage. Add --debug to see stack traces.',
].join('\n');

/** The `nephron` program with every command, writing through `host` and never exiting by itself. */
export function createProgram(context: CommandContext): Command {
  const { host } = context;
  const program = new Command('nephron')
    .description('A WebGPU deep-learning stack in TypeScript that finds glomeruli in kidney tissue images.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--debug', 'show stack traces when something fails')
    .helpOption('-h, --help', 'show help')
    .addHelpCommand('help [command]', 'show help for a command')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => host.stdout.write(text),
      writeErr: (text) => host.stderr.write(text),
    })
    .exitOverride()
    .addHelpText('after', EXAMPLES);
  registerDoctor(program, context);
  registerInspect(program, context);
  registerCrop(program, context);
  registerRle(program, context);
  registerScore(program, context);
  registerTrain(program, context);
  registerPredict(program, context);
  registerMerge(program, context);
  registerForward(program, context);
  registerDemo(program, context);
  registerBench(program, context);
  return program;
}

/**
 * Runs one command line (without the program name) on a host and returns its exit code: 0 ok,
 * 1 failure, 2 usage. Errors become one message on stderr; `--debug` adds the stack trace.
 */
export async function runCli(argv: readonly string[], host: Host): Promise<ExitCode> {
  let exitCode: ExitCode = ExitCode.ok;
  const setExitCode = (code: ExitCode) => {
    exitCode = code;
  };
  const program = createProgram({ host, setExitCode });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error);
    host.stderr.write(describeError(error, argv.includes('--debug')));
    return (error as Error)?.name === 'UsageError' ? ExitCode.usage : ExitCode.failure;
  }
}

/** Commander reports help, version and usage mistakes by throwing once `exitOverride` is on. */
function commanderExitCode(error: CommanderError): ExitCode {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.ok;
  // Help printed because no command was given is a usage mistake too.
  return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
}
