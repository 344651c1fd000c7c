/** One ROC curve to draw: TAR at each FAR. */
export interface RocSeries {
  label: string;
  far: readonly number[];
  tar: readonly number[];
  /** Operating points to mark on the curve (protocol threshold, EER, TAR@FAR). */
  marks?: readonly RocMark[];
}

export interface RocMark {
  label: string;
  far: number;
  tar: number;
}

const MARK_SHAPES = ['circle', 'square', 'diamond'] as const;

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A hand-written SVG of ROC curves: log10 FAR on x (from the smallest FAR drawn to 1), TAR on y. */
export function rocSvg(series: readonly RocSeries[], title: string): string {
  const W = 640;
  const H = 480;
  const L = 64;
  const R = 16;
  const T = 40;
  const B = 56;
  // a loop, not Math.min(...far): a pooled ROC can have more points than the call stack takes
  let smallest = Infinity;
  for (const s of series) for (const f of s.far) if (f > 0 && f < smallest) smallest = f;
  const minDecade = Math.min(-1, Math.floor(Math.log10(Number.isFinite(smallest) ? smallest : 1e-4)));
  const x = (far: number) => L + ((Math.log10(Math.max(far, 10 ** minDecade)) - minDecade) / -minDecade) * (W - L - R);
  const y = (tar: number) => T + (1 - tar) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (let d = minDecade; d <= 0; d++) {
    const px = x(10 ** d).toFixed(1);
    out.push(`<line x1="${px}" y1="${T}" x2="${px}" y2="${H - B}" stroke="#ddd"/>`);
    out.push(`<text x="${px}" y="${H - B + 16}" text-anchor="middle">1e${d}</text>`);
  }
  for (let t = 0; t <= 10; t += 2) {
    const py = y(t / 10).toFixed(1);
    out.push(`<line x1="${L}" y1="${py}" x2="${W - R}" y2="${py}" stroke="#ddd"/>`);
    out.push(`<text x="${L - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${(t / 10).toFixed(1)}</text>`);
  }
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 16}" text-anchor="middle">false accept rate (log scale)</text>`);
  out.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">true accept rate</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = s.far.map((f, k) => `${x(f).toFixed(1)},${y(s.tar[k]!).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`);
    (s.marks ?? []).forEach((m, k) => {
      if (!Number.isFinite(m.far) || !Number.isFinite(m.tar)) return;
      out.push(markSvg(MARK_SHAPES[Math.min(k, MARK_SHAPES.length - 1)]!, x(m.far), y(m.tar), color, m.label));
      const ty = T + 16 + 16 * k + 16 * i * (s.marks?.length ?? 0);
      out.push(`<text x="${L + 24}" y="${ty}" dominant-baseline="middle">${esc(m.label)}</text>`);
      out.push(markSvg(MARK_SHAPES[Math.min(k, MARK_SHAPES.length - 1)]!, L + 14, ty, color, m.label));
    });
    const ly = H - B - 12 - (series.length - 1 - i) * 16;
    out.push(`<line x1="${W - R - 190}" y1="${ly}" x2="${W - R - 170}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${W - R - 164}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** One marked point: an outlined shape with its label as tooltip. */
function markSvg(shape: (typeof MARK_SHAPES)[number], px: number, py: number, color: string, label: string): string {
  const title = `<title>${esc(label)}</title>`;
  const p = (v: number) => v.toFixed(1);
  if (shape === 'circle') return `<circle cx="${p(px)}" cy="${p(py)}" r="5" fill="white" stroke="${color}" stroke-width="2">${title}</circle>`;
  if (shape === 'square') return `<rect x="${p(px - 4.5)}" y="${p(py - 4.5)}" width="9" height="9" fill="white" stroke="${color}" stroke-width="2">${title}</rect>`;
  return `<polygon points="${p(px)},${p(py - 6)} ${p(px + 6)},${p(py)} ${p(px)},${p(py + 6)} ${p(px - 6)},${p(py)}" fill="${color}" stroke="${color}">${title}</polygon>`;
}
