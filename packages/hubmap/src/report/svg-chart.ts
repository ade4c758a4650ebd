export interface Series {
  name: string;
  colour: string;
  points: readonly [number, number][];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Fix the y range (e.g. [0, 1] for Dice); otherwise it fits the data. */
  yRange?: [number, number];
  logY?: boolean;
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string,
  );
}

/** "Nice" tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}

/** A line chart as standalone SVG: axes with ticks, one polyline (and dots) per series, a legend. */
export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 560;
  const height = options.height ?? 300;
  // The legend sits between the title and the plot, where no curve can run under it.
  const m = { left: 64, right: 16, top: 50, bottom: 48 };
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  const tf = (y: number) => (options.logY ? Math.log10(Math.max(y, 1e-12)) : y);
  let [xLo, xHi] = all.length
    ? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))]
    : [0, 1];
  if (xHi === xLo) xHi = xLo + 1;
  let [yLo, yHi] =
    options.yRange ??
    (all.length ? [Math.min(...all.map((p) => tf(p[1]))), Math.max(...all.map((p) => tf(p[1])))] : [0, 1]);
  if (yHi === yLo) {
    yLo -= 0.5;
    yHi += 0.5;
  }
  const px = (x: number) => m.left + ((x - xLo) / (xHi - xLo)) * (width - m.left - m.right);
  const py = (y: number) => height - m.bottom - ((tf(y) - yLo) / (yHi - yLo)) * (height - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`,
  ];
  for (const t of niceTicks(xLo, xHi)) {
    const x = px(t);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${height - m.bottom}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x}" y="${height - m.bottom + 16}" text-anchor="middle" fill="#444">${formatTick(t)}</text>`,
    );
  }
  for (const t of niceTicks(yLo, yHi)) {
    const y = height - m.bottom - ((t - yLo) / (yHi - yLo)) * (height - m.top - m.bottom);
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(
      `<text x="${m.left - 6}" y="${y + 4}" text-anchor="end" fill="#444">${formatTick(options.logY ? 10 ** t : t)}</text>`,
    );
  }
  parts.push(
    `<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" fill="none" stroke="#888"/>`,
  );
  parts.push(
    `<text x="${width / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  series.forEach((s, k) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    if (pts.length) {
      parts.push(
        `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
      );
      if (pts.length <= 60)
        for (const [x, y] of pts)
          parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.colour}"/>`);
    }
    const lx = m.left + 10 + k * 150;
    parts.push(`<rect x="${lx}" y="${m.top - 16}" width="14" height="4" fill="${s.colour}"/>`);
    parts.push(`<text x="${lx + 20}" y="${m.top - 10}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
