import { describe, expect, it } from 'vitest';
import { terminalHtml, terminalScreen } from './terminal-html.js';

const text = (output: string) => terminalScreen(output).map((line) => line.map((c) => c.char).join(''));

describe('terminalScreen', () => {
  it('keeps the last drawing of a line that a progress bar redraws with carriage returns', () => {
    expect(text('epoch 1 [--] 0/2\repoch 1 [#-] 1/2\repoch 1 [##] 2/2\ndone\n')).toEqual([
      'epoch 1 [##] 2/2',
      'done',
    ]);
  });

  it('moves to a column and erases the rest of a line, a whole line, or its start', () => {
    expect(text('abcdef\x1b[3G\x1b[K')).toEqual(['ab']);
    expect(text('abcdef\x1b[2K\x1b[1Gxy')).toEqual(['xy']);
    expect(text('abcdef\x1b[3G\x1b[1K')).toEqual(['   def']);
    expect(text('a\nb\x1b[1Ac')).toEqual(['ac', 'b']);
    expect(text('x\n\x1b7\x1b[1Gbar 1\x1b[1Gbar 2\x1b8\r\ndone')).toEqual(['x', 'bar 2', 'done']);
  });

  it('colours characters by SGR codes and drops sequences that show nothing', () => {
    const [line] = terminalScreen('\x1b[?25l\x1b[1;32mok\x1b[0m plain\x1b[?25h');
    expect(line.map((c) => c.char).join('')).toBe('ok plain');
    expect(line[0].style).toEqual({ colour: 32, bold: true });
    expect(line[3].style).toEqual({ colour: null, bold: false });
  });
});

describe('terminalHtml', () => {
  it('escapes what the program wrote and shows the command at the prompt', () => {
    const html = terminalHtml('nephron demo --help', 'Usage: nephron demo <dir> & \x1b[31mred\x1b[0m\n');
    expect(html).toContain(
      '<span class="prompt">$</span> nephron demo --help\nUsage: nephron demo &lt;dir&gt; &amp; ',
    );
    expect(html).toContain('<span style="color:#f2777a">red</span>');
  });
});
