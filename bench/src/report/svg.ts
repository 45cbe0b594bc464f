/** Small, dependency-free SVG charts for the summary: grouped bars on a linear or log axis. */

export interface Series {
  name: string;
  color: string;
  /** One value per group; null draws a grey "n/a" mark (skipped or failed). */
  values: (number | null)[];
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  groups: string[];
  series: Series[];
  /** Log10 axis (latencies). */
  log?: boolean;
  /** A dashed horizontal line, e.g. the p99 limit. */
  threshold?: { value: number; label: string };
  width?: number;
  height?: number;
}

export const PEER_COLORS: Record<string, string> = {
  'ws-ceiling': '#8c8c8c',
  socketio: '#3b7dd8',
  'naive-yoga': '#e0912f',
  ours: '#2e9e5b',
  'ours-2x': '#1d6b3c',
};

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 1234 → "1.2k", 0.0123 → "0.012". */
export function compact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  if (abs >= 10) return String(Math.round(value));
  if (abs >= 1) return value.toFixed(1);
  return value.toPrecision(2);
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * magnitude >= value) ?? 10;
  return step * magnitude;
}

export function barChart(options: BarChartOptions): string {
  const { title, yLabel, groups, series, log = false, threshold, width = 820, height = 400 } = options;
  const margin = { top: 44, right: 20, bottom: 78, left: 72 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  if (threshold) values.push(threshold.value);

  let y: (v: number) => number;
  let ticks: number[];
  if (log) {
    const positive = values.filter((v) => v > 0);
    const lo = Math.floor(Math.log10(Math.min(...positive, 1)));
    const hi = Math.ceil(Math.log10(Math.max(...positive, 10)));
    y = (v) => margin.top + plotH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotH;
    ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  } else {
    const max = niceMax(Math.max(...values, 0));
    y = (v) => margin.top + plotH - (v / max) * plotH;
    ticks = Array.from({ length: 6 }, (_, i) => (max / 5) * i);
  }

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`);
  for (const tick of ticks) {
    const ty = y(tick);
    out.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${ty}" y2="${ty}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${margin.left - 6}" y="${ty + 4}" text-anchor="end" fill="#555">${compact(tick)}</text>`);
  }
  out.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escape(yLabel)}</text>`);

  const groupW = plotW / Math.max(1, groups.length);
  const barW = (groupW * 0.8) / Math.max(1, series.length);
  groups.forEach((group, g) => {
    const x0 = margin.left + g * groupW + groupW * 0.1;
    series.forEach((s, i) => {
      const value = s.values[g];
      const x = x0 + i * barW;
      if (value === null || value === undefined || !Number.isFinite(value)) {
        out.push(`<text x="${x + barW / 2}" y="${margin.top + plotH - 4}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`);
        return;
      }
      const top = y(value);
      out.push(`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(margin.top + plotH - top).toFixed(1)}" fill="${s.color}"><title>${escape(`${s.name}, ${group}: ${value}`)}</title></rect>`);
      out.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(top - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#333">${compact(value)}</text>`);
    });
    out.push(`<text x="${margin.left + g * groupW + groupW / 2}" y="${margin.top + plotH + 16}" text-anchor="middle" fill="#333">${escape(group)}</text>`);
  });
  out.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#333"/>`);
  if (threshold) {
    const ty = y(threshold.value);
    out.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${ty}" y2="${ty}" stroke="#c0392b" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${width - margin.right - 4}" y="${ty - 4}" text-anchor="end" fill="#c0392b">${escape(threshold.label)}</text>`);
  }
  const legendY = height - 22;
  let legendX = margin.left;
  for (const s of series) {
    out.push(`<rect x="${legendX}" y="${legendY - 10}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${legendX + 17}" y="${legendY}" fill="#333">${escape(s.name)}</text>`);
    legendX += 30 + s.name.length * 7;
  }
  out.push('</svg>');
  return out.join('\n');
}
