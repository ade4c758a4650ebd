/** A command line that cannot be split into words, such as one with an unclosed quote. */
export class CommandLineError extends Error {
  override readonly name = 'CommandLineError';
}

/**
 * Splits a typed command line into words the way a POSIX shell does for plain arguments: blanks separate
 * words, single quotes keep everything literally, double quotes keep blanks, and a backslash outside
 * single quotes escapes the next character. So `crop "my slide.tiff" --out a.png` reads the same in the
 * page as in a terminal. Variables, globs and pipes are not a shell's job here and stay literal.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new CommandLineError('the line ends with a lone backslash');
      const next = line[++i];
      // Inside double quotes a backslash escapes only what double quotes give a meaning to.
      word += quote === '"' && !'"\\$`'.includes(next) ? `\\${next}` : next;
      inWord = true;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new CommandLineError(`the ${quote === "'" ? 'single' : 'double'} quote is never closed`);
  if (inWord) words.push(word);
  return words;
}

/** The arguments of a typed command line: its words, less a leading `nephron` typed out of habit. */
export function commandArguments(line: string): string[] {
  const words = splitCommandLine(line);
  return words[0] === 'nephron' ? words.slice(1) : words;
}
