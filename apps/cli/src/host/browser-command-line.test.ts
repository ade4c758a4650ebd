import { describe, expect, it } from 'vitest';
import { quoteWord } from '../web/compose.js';
import { CommandLineError, commandArguments, splitCommandLine } from './browser-command-line.js';

describe('splitCommandLine', () => {
  it('splits on blanks of any length', () => {
    expect(splitCommandLine('  rle  encode\t--mask mask.png ')).toEqual([
      'rle',
      'encode',
      '--mask',
      'mask.png',
    ]);
    expect(splitCommandLine('   ')).toEqual([]);
  });

  it('keeps quoted blanks and quotes as a shell does', () => {
    expect(splitCommandLine(`crop "my slide.tiff" --out 'a b.png'`)).toEqual([
      'crop',
      'my slide.tiff',
      '--out',
      'a b.png',
    ]);
    expect(splitCommandLine(`a"b c"d`)).toEqual(['ab cd']);
    expect(splitCommandLine(`'it'\\''s' ""`)).toEqual(["it's", '']);
    expect(splitCommandLine(`"say \\"hi\\" \\n" 'x\\y'`)).toEqual(['say "hi" \\n', 'x\\y']);
    expect(splitCommandLine('my\\ slide.tiff')).toEqual(['my slide.tiff']);
  });

  it('says what is wrong with a line it cannot split', () => {
    expect(() => splitCommandLine(`crop "slide.tiff`)).toThrow(
      new CommandLineError('the double quote is never closed'),
    );
    expect(() => splitCommandLine(`crop 'slide.tiff`)).toThrow('the single quote is never closed');
    expect(() => splitCommandLine('crop \\')).toThrow('lone backslash');
  });

  it('reads back every word the page quotes', () => {
    for (const word of [
      'plain.png',
      'with space.tiff',
      "it's",
      'a"b',
      '$HOME',
      'x\\y',
      '',
      'run/model.safetensors',
    ]) {
      expect(splitCommandLine(`predict ${quoteWord(word)}`)).toEqual(['predict', word]);
    }
  });
});

describe('commandArguments', () => {
  it('drops a leading "nephron" typed out of habit, and only that', () => {
    expect(commandArguments('nephron doctor --json')).toEqual(['doctor', '--json']);
    expect(commandArguments('doctor')).toEqual(['doctor']);
    expect(commandArguments('rle encode --mask nephron')).toEqual(['rle', 'encode', '--mask', 'nephron']);
  });
});
