/** Genuine and impostor score histograms as a hand-written SVG (scores.svg of a report). */

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A vertical line to draw at a cosine score. */
export interface ScoreMark {
  label: string;
  cosine: number;
}

/**
 * Cosine scores of genuine (same person) and impostor pairs in `bins` bins over [lo, 1] (lo the
 * lowest score rounded down to 0.1, at least -1), each class normalized to its own count so both
 * show whatever their sizes; `marks` (e.g. the protocol threshold) as dashed lines.
 */
export function scoreHistogramSvg(cos: ArrayLike<number>, same: ArrayLike<number>, title: string, marks: readonly ScoreMark[] = [], bins = 50): string {
  const W = 640;
  const H = 360;
  const L = 56;
  const R = 16;
  const T = 40;
  const B = 48;
  let min = 1;
  for (let k = 0; k < cos.length; k++) if (Number.isFinite(cos[k]!)) min = Math.min(min, cos[k]!);
  const lo = Math.max(-1, Math.floor(min * 10) / 10);
  const hi = 1;
  const width = (hi - lo) / bins;
  const gen = new Float64Array(bins);
  const imp = new Float64Array(bins);
  let ng = 0;
  let ni = 0;
  for (let k = 0; k < cos.length; k++) {
    const v = cos[k]!;
    if (!Number.isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)));
    if (same[k]) {
      gen[b]!++;
      ng++;
    } else {
      imp[b]!++;
      ni++;
    }
  }
  const share = (h: Float64Array, n: number) => Array.from(h, (c) => (n ? c / n : 0));
  const g = share(gen, ng);
  const i = share(imp, ni);
  const top = Math.max(...g, ...i, 1e-9);
  const x = (s: number) => L + ((s - lo) / (hi - lo)) * (W - L - R);
  const y = (f: number) => H - B - (f / top) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (let t = Math.ceil(lo * 10); t <= 10; t += lo < -0.5 ? 2 : 1) {
    const px = x(t / 10).toFixed(1);
    out.push(`<line x1="${px}" y1="${T}" x2="${px}" y2="${H - B}" stroke="#eee"/>`);
    out.push(`<text x="${px}" y="${H - B + 16}" text-anchor="middle">${(t / 10).toFixed(1)}</text>`);
  }
  const bars = (h: number[], color: string, name: string, n: number) => {
    for (let b = 0; b < bins; b++) {
      if (!h[b]) continue;
      out.push(`<rect x="${x(lo + b * width).toFixed(1)}" y="${y(h[b]!).toFixed(1)}" width="${(x(lo + width) - x(lo)).toFixed(1)}" height="${(H - B - y(h[b]!)).toFixed(1)}" fill="${color}" fill-opacity="0.5"/>`);
    }
    return `${name} (${n})`;
  };
  const legend = [bars(i, '#d62728', 'impostor pairs', ni), bars(g, '#1f77b4', 'genuine pairs', ng)];
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">cosine score (share of each class per bin of ${width.toFixed(3)})</text>`);
  marks.forEach((m, k) => {
    if (!Number.isFinite(m.cosine) || m.cosine < lo || m.cosine > hi) return;
    const px = x(m.cosine).toFixed(1);
    out.push(`<line x1="${px}" y1="${T}" x2="${px}" y2="${H - B}" stroke="#333" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${px}" y="${T + 14 + 14 * k}" text-anchor="end" dx="-3">${esc(m.label)}</text>`);
  });
  ['#d62728', '#1f77b4'].forEach((c, k) => {
    const ly = T + 14 + 16 * k;
    out.push(`<rect x="${L + 8}" y="${ly - 6}" width="12" height="12" fill="${c}" fill-opacity="0.5"/>`);
    out.push(`<text x="${L + 26}" y="${ly}" dominant-baseline="middle">${esc(legend[k]!)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
