/**
 * How well a model estimates age and gender against data.json's labels: MAE, CS@5 (share
 * within 5 years), accuracy on MTLFace's 7 age groups, gender accuracy, overall and per age
 * group of the label. Pure functions; the labels of ECAF are Face++ estimates, not the truth.
 */
import { AGE_GROUPS, ageGroupOf } from '../dataset/age-groups.js';

/** CS@5: an estimate counts when it is within this many years of the label. */
export const CS_YEARS = 5;

/** One image's label and estimate (NaN / null where absent). */
export interface AgeSample {
  id: string;
  trueAge: number;
  predictedAge: number;
  trueGender: 'male' | 'female' | null;
  predictedGender: 'male' | 'female' | null;
  /** The model's age-group head's pick (index into AGE_GROUPS), where it has one. */
  predictedGroup?: number | null;
}

export interface AgeScores {
  /** Images with a label age and an estimate. */
  images: number;
  /** Mean absolute error in years. */
  mae: number;
  /** Mean of estimate - label: positive when the model guesses older. */
  bias: number;
  /** Share with |estimate - label| <= 5 years. */
  cs5: number;
  /** Share whose estimate falls in the label's age group. */
  groupAccuracy: number;
  /** Images with a label age and a group-head pick, and the share where the head picks the label's group. */
  groupHeadImages: number;
  groupHeadAccuracy: number;
  /** Images with both genders, and the share that agree. */
  genderImages: number;
  genderAccuracy: number;
}

export interface AgeEvaluation extends AgeScores {
  /** The same, per age group of the label (groups with no image included, as zeros and NaN). */
  byGroup: (AgeScores & { group: string })[];
}

function scores(samples: readonly AgeSample[]): AgeScores {
  let n = 0;
  let abs = 0;
  let signed = 0;
  let within = 0;
  let group = 0;
  let gn = 0;
  let gRight = 0;
  let hn = 0;
  let hRight = 0;
  for (const s of samples) {
    if (Number.isFinite(s.trueAge) && s.predictedGroup !== undefined && s.predictedGroup !== null) {
      hn++;
      if (s.predictedGroup === ageGroupOf(s.trueAge)) hRight++;
    }
    if (s.trueGender !== null && s.predictedGender !== null) {
      gn++;
      if (s.trueGender === s.predictedGender) gRight++;
    }
    if (!Number.isFinite(s.trueAge) || !Number.isFinite(s.predictedAge)) continue;
    const e = s.predictedAge - s.trueAge;
    n++;
    abs += Math.abs(e);
    signed += e;
    if (Math.abs(e) <= CS_YEARS) within++;
    if (ageGroupOf(s.predictedAge) === ageGroupOf(s.trueAge)) group++;
  }
  const share = (k: number, of: number) => (of ? k / of : Number.NaN);
  return { images: n, mae: share(abs, n), bias: share(signed, n), cs5: share(within, n), groupAccuracy: share(group, n), groupHeadImages: hn, groupHeadAccuracy: share(hRight, hn), genderImages: gn, genderAccuracy: share(gRight, gn) };
}

/** Overall and per label age group (an image without a label age counts for gender overall only). */
export function evaluateAges(samples: readonly AgeSample[]): AgeEvaluation {
  const byGroup = AGE_GROUPS.map((g, i) => ({ group: g.label, ...scores(samples.filter((s) => Number.isFinite(s.trueAge) && ageGroupOf(s.trueAge) === i)) }));
  return { ...scores(samples), byGroup };
}

const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const num = (v: number): string => (Number.isFinite(v) ? String(+v.toFixed(3)) : '');

/** ages.csv: `id,true_age,predicted_age,true_gender,predicted_gender`, empty where unknown. */
export function agesCsv(samples: readonly AgeSample[]): string {
  const lines = ['id,true_age,predicted_age,true_gender,predicted_gender'];
  for (const s of samples) lines.push([csvField(s.id), num(s.trueAge), num(s.predictedAge), s.trueGender ?? '', s.predictedGender ?? ''].join(','));
  return lines.join('\n') + '\n';
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Label age (x) against estimate (y), 0..100 years, the diagonal and the +-5 year band; one dot per image. */
export function ageScatterSvg(samples: readonly AgeSample[], title: string): string {
  const W = 520;
  const H = 520;
  const L = 56;
  const R = 16;
  const T = 40;
  const B = 52;
  const MAX = 100;
  const x = (a: number) => L + (Math.min(Math.max(a, 0), MAX) / MAX) * (W - L - R);
  const y = (a: number) => H - B - (Math.min(Math.max(a, 0), MAX) / MAX) * (H - T - B);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (let a = 0; a <= MAX; a += 10) {
    out.push(`<line x1="${x(a).toFixed(1)}" y1="${T}" x2="${x(a).toFixed(1)}" y2="${H - B}" stroke="#eee"/>`);
    out.push(`<line x1="${L}" y1="${y(a).toFixed(1)}" x2="${W - R}" y2="${y(a).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${x(a).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${a}</text>`);
    out.push(`<text x="${L - 6}" y="${y(a).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${a}</text>`);
  }
  const band = [`${x(0)},${y(CS_YEARS)}`, `${x(MAX - CS_YEARS)},${y(MAX)}`, `${x(MAX)},${y(MAX)}`, `${x(MAX)},${y(MAX - CS_YEARS)}`, `${x(CS_YEARS)},${y(0)}`, `${x(0)},${y(0)}`];
  out.push(`<polygon points="${band.join(' ')}" fill="#2ca02c" fill-opacity="0.12"/>`);
  out.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(MAX)}" y2="${y(MAX)}" stroke="#2ca02c"/>`);
  for (const s of samples) {
    if (!Number.isFinite(s.trueAge) || !Number.isFinite(s.predictedAge)) continue;
    out.push(`<circle cx="${x(s.trueAge).toFixed(1)}" cy="${y(s.predictedAge).toFixed(1)}" r="2.5" fill="#1f77b4" fill-opacity="0.5"><title>${esc(`${s.id}: ${num(s.trueAge)} -> ${num(s.predictedAge)}`)}</title></circle>`);
  }
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 14}" text-anchor="middle">age in data.json (Face++ estimate)</text>`);
  out.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">model's estimate</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
