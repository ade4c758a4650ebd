/**
 * Renders what a program wrote to a terminal (text with ANSI escape codes, carriage returns that redraw a
 * progress bar) as the screen a person saw at the end, in a self-contained HTML page, so a real terminal
 * session can be screenshotted for the README without a terminal emulator.
 */

/** The style of a character: an SGR foreground colour (30–37, 90–97) and boldness. */
interface Style {
  colour: number | null;
  bold: boolean;
}

interface Cell {
  char: string;
  style: Style;
}

const PLAIN: Style = { colour: null, bold: false };

/** The 16 colours of a dark terminal theme, by SGR code. */
const COLOURS: Record<number, string> = {
  30: '#4d4d4d',
  31: '#f2777a',
  32: '#99cc99',
  33: '#ffcc66',
  34: '#6699cc',
  35: '#cc99cc',
  36: '#66cccc',
  37: '#d3d0c8',
  90: '#747369',
  91: '#f99157',
  92: '#a6e3a1',
  93: '#f9e2af',
  94: '#89b4fa',
  95: '#f5c2e7',
  96: '#94e2d5',
  97: '#ffffff',
};

/** Applies the parameters of an SGR sequence (`ESC [ 1 ; 32 m`) to a style. */
function applySgr(style: Style, parameters: number[]): Style {
  let next = { ...style };
  for (const p of parameters.length === 0 ? [0] : parameters) {
    if (p === 0) next = { ...PLAIN };
    else if (p === 1) next.bold = true;
    else if (p === 22) next.bold = false;
    else if (p === 39) next.colour = null;
    else if ((p >= 30 && p <= 37) || (p >= 90 && p <= 97)) next.colour = p;
  }
  return next;
}

/**
 * The final screen of a terminal session, line by line. Handles what command-line tools write: newlines,
 * carriage returns, cursor-to-column, cursor up, saved cursor positions, erase-in-line and colours. Other control sequences (hiding the cursor,
 * turning line wrap off) change nothing visible and are dropped.
 */
export function terminalScreen(text: string): Cell[][] {
  const lines: Cell[][] = [[]];
  let row = 0;
  let column = 0;
  let style: Style = { ...PLAIN };
  let saved: [number, number] = [0, 0];
  // What follows ESC in a control sequence: [ private-marker? parameters final-byte.
  const csi = /^\[([?]?)([\d;]*)([A-Za-z])/;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const line = lines[row];
    if (c === '\x1b') {
      // ESC 7 and ESC 8 save and restore the cursor (progress bars use them); other two-byte escapes show nothing.
      if (text[i + 1] === '7') saved = [row, column];
      else if (text[i + 1] === '8') [row, column] = saved;
      const m = csi.exec(text.slice(i + 1, i + 32));
      if (!m) {
        i++;
        continue;
      }
      i += m[0].length;
      if (m[1] === '?') continue;
      const parameters = m[2] === '' ? [] : m[2].split(';').map(Number);
      const [final, n] = [m[3], parameters[0]];
      if (final === 'm') style = applySgr(style, parameters);
      else if (final === 'G') column = Math.max((n ?? 1) - 1, 0);
      else if (final === 'K') {
        // 0 (or none): from the cursor to the end; 1: from the start to the cursor; 2: the whole line.
        if (n === 2) line.length = 0;
        else if (n === 1)
          for (let k = 0; k <= column && k < line.length; k++) line[k] = { char: ' ', style: PLAIN };
        else line.length = Math.min(line.length, column);
      } else if (final === 'A') row = Math.max(row - (n ?? 1), 0);
      continue;
    }
    if (c === '\n') {
      row++;
      column = 0;
      if (lines.length <= row) lines.push([]);
    } else if (c === '\r') {
      column = 0;
    } else if (c === '\t') {
      column += 8 - (column % 8);
    } else if (c >= ' ') {
      while (line.length < column) line.push({ char: ' ', style: PLAIN });
      line[column++] = { char: c, style };
    }
  }
  while (lines.length > 1 && lines.at(-1)!.length === 0) lines.pop();
  return lines;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** One line of cells as HTML: runs of the same style become one span. */
function lineHtml(cells: Cell[]): string {
  let html = '';
  let k = 0;
  while (k < cells.length) {
    const style = cells[k].style;
    let run = '';
    while (k < cells.length && cells[k].style.colour === style.colour && cells[k].style.bold === style.bold)
      run += cells[k++].char;
    const css = [
      style.colour === null ? '' : `color:${COLOURS[style.colour]}`,
      style.bold ? 'font-weight:bold' : '',
    ].filter(Boolean);
    html += css.length > 0 ? `<span style="${css.join(';')}">${escapeHtml(run)}</span>` : escapeHtml(run);
  }
  return html;
}

/**
 * A page that shows a terminal window with the command line typed at its prompt and what the command
 * wrote below it, as the terminal showed it at the end.
 */
export function terminalHtml(commandLine: string, output: string, title = 'Terminal'): string {
  const screen = terminalScreen(output).map(lineHtml).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
  body { margin: 0; padding: 24px; background: #e8e6e3; font-family: system-ui, sans-serif; }
  .window { display: inline-block; min-width: 860px; border-radius: 8px; overflow: hidden;
    box-shadow: 0 6px 24px rgba(0,0,0,.25); background: #1e1e2e; }
  .bar { background: #313244; color: #cdd6f4; font-size: 13px; padding: 7px 12px; }
  .bar i { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 6px; }
  pre { margin: 0; padding: 12px 16px 16px; color: #cdd6f4; font: 13px/1.45 "DejaVu Sans Mono", monospace; }
  .prompt { color: #a6e3a1; }
</style></head>
<body><div class="window" id="terminal">
<div class="bar"><i style="background:#f38ba8"></i><i style="background:#f9e2af"></i><i style="background:#a6e3a1"></i> ${escapeHtml(title)}</div>
<pre><span class="prompt">$</span> ${escapeHtml(commandLine)}
${screen}</pre>
</div></body></html>
`;
}
