/**
 * Linear probes of an identity embedding: how much age (and gender) a linear read-out of the
 * L2-normalised embedding recovers on people it never saw. Pure functions over typed arrays,
 * pinned to the numpy implementation in test/benchmark/age_probe_ref.py.
 *
 * - Folds split by identity (every image of a person in one fold), assigned as scikit-learn's
 *   GroupKFold does: identities by decreasing image count, each into the fold with fewest rows.
 * - Age: ridge regression with an unpenalised intercept, solved in closed form from per-fold
 *   sums (the d x d Gram of each fold is built once; every fit is a d x d solve). Its strength
 *   is chosen per outer fold by an inner cross-validation over the other folds (nested), on
 *   the squared error, and the probe is scored by MAE against the training folds' median age.
 * - Gender: L2-regularised logistic regression; its strength is the one the inner folds choose
 *   for the least-squares fit to +-1 labels, scaled so that the logistic loss's quadratic
 *   approximation at 0 is that very ridge (a cheap, nested choice: a logistic fit per candidate
 *   would cost a pass over the rows per iteration).
 */

/** Default ridge strengths, as multiples of the training rows (lambda = alpha * n_train). */
export const PROBE_ALPHAS: readonly number[] = Array.from({ length: 13 }, (_, i) => 10 ** (-5 + i / 2));
export const PROBE_FOLDS = 5;

export interface ProbeInput {
  /** n rows of `dim` floats, normalised to unit length here (a zero row stays zero). */
  x: Float32Array;
  dim: number;
  /** The person in each row: rows of one person always share a fold. */
  identity: readonly string[];
  /** Age in years per row; NaN where unknown. */
  age?: Float64Array;
  /** 1 male, 0 female, -1 unknown. */
  male?: Int8Array;
}

export interface ProbeOptions {
  folds?: number;
  alphas?: readonly number[];
}

/** A probe that could not run, and why. */
export interface ProbeSkipped {
  skipped: string;
}

export interface AgeProbeResult {
  samples: number;
  identities: number;
  folds: number;
  /** Mean absolute error of the held-out predictions (years). */
  mae: number;
  /** The same for the constant predictor: each fold's training median age. */
  baselineMae: number;
  /** mae / baselineMae: about 1 means no age is linearly readable. */
  ratio: number;
  foldMae: number[];
  /** Ridge strength chosen per outer fold (lambda / training rows). */
  alpha: number[];
}

export interface GenderProbeResult {
  samples: number;
  identities: number;
  folds: number;
  /** Held-out accuracy of the logistic probe. */
  accuracy: number;
  /** Held-out accuracy of predicting each fold's training majority. */
  baselineAccuracy: number;
  foldAccuracy: number[];
  /** Mean held-out cross-entropy (nats) of the probe's probabilities, and of each fold's training share of men. */
  logLoss: number;
  baselineLogLoss: number;
  /** Strength chosen per outer fold (the +-1 ridge's alpha; the logistic L2 is alpha * n_train / 4). */
  alpha: number[];
  /** Solver iterations per fold. */
  iterations: number[];
}

export interface ProbeResults {
  age: AgeProbeResult | ProbeSkipped;
  gender: GenderProbeResult | ProbeSkipped;
}

/**
 * Fold (0..k-1) of each row, no identity in two folds: GroupKFold's rule, identities by
 * decreasing row count (first seen first on ties), each to the fold with fewest rows (lowest index on ties).
 */
export function identityFolds(identity: readonly string[], k: number): Int32Array {
  const index = new Map<string, number>();
  const count: number[] = [];
  const group = identity.map((id) => {
    let g = index.get(id);
    if (g === undefined) {
      g = count.length;
      index.set(id, g);
      count.push(0);
    }
    count[g]!++;
    return g;
  });
  const order = count.map((_, g) => g).sort((a, b) => count[b]! - count[a]! || a - b);
  const size = new Array<number>(k).fill(0);
  const foldOf = new Int32Array(count.length);
  for (const g of order) {
    let f = 0;
    for (let j = 1; j < k; j++) if (size[j]! < size[f]!) f = j;
    foldOf[g] = f;
    size[f]! += count[g]!;
  }
  return Int32Array.from(group, (g) => foldOf[g]!);
}

/** Per-fold sums the closed-form fits need: rows, sum x, sum x x^T, and per target sum y, y^2, x y. */
interface FoldStats {
  d: number;
  k: number;
  n: Float64Array;
  sx: Float64Array[];
  gram: Float64Array[];
  targets: { sy: Float64Array; syy: Float64Array; sxy: Float64Array[] }[];
}

/** 1 / ||row|| of every row (0 for a zero row). */
function inverseNorms(x: Float32Array, dim: number): Float64Array {
  const n = x.length / dim;
  const inv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * dim; j < (i + 1) * dim; j++) s += x[j]! * x[j]!;
    inv[i] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }
  return inv;
}

/** Copy unit row `r` into `out` (float64). */
function unitRow(x: Float32Array, dim: number, inv: Float64Array, r: number, out: Float64Array): void {
  const off = r * dim;
  const s = inv[r]!;
  for (let j = 0; j < dim; j++) out[j] = x[off + j]! * s;
}

/** Rows processed together in the Gram update: each load and store of the Gram serves this many products. */
const GRAM_BLOCK = 8;

function foldStats(x: Float32Array, dim: number, inv: Float64Array, rowsByFold: Int32Array[], targets: Float64Array[]): FoldStats {
  const d = dim;
  const k = rowsByFold.length;
  const st: FoldStats = {
    d,
    k,
    n: new Float64Array(k),
    sx: [],
    gram: [],
    targets: targets.map(() => ({ sy: new Float64Array(k), syy: new Float64Array(k), sxy: [] as Float64Array[] })),
  };
  const block = new Float64Array(GRAM_BLOCK * d);
  const rowsOf = Array.from({ length: GRAM_BLOCK }, (_, b) => block.subarray(b * d, (b + 1) * d));
  for (let f = 0; f < k; f++) {
    const rows = rowsByFold[f]!;
    const g = new Float64Array(d * d);
    const sx = new Float64Array(d);
    const sxy = targets.map(() => new Float64Array(d));
    for (let start = 0; start < rows.length; start += GRAM_BLOCK) {
      const m = Math.min(GRAM_BLOCK, rows.length - start);
      for (let b = 0; b < m; b++) {
        const r = rows[start + b]!;
        const v = rowsOf[b]!;
        unitRow(x, dim, inv, r, v);
        for (let j = 0; j < d; j++) sx[j]! += v[j]!;
        targets.forEach((t, ti) => {
          const y = t[r]!;
          const acc = sxy[ti]!;
          for (let j = 0; j < d; j++) acc[j]! += y * v[j]!;
          st.targets[ti]!.sy[f]! += y;
          st.targets[ti]!.syy[f]! += y * y;
        });
      }
      if (m === GRAM_BLOCK) gramUpdate8(g, block, d);
      else for (let b = 0; b < m; b++) gramUpdate1(g, rowsOf[b]!, d);
    }
    // the updates fill the upper triangle: mirror it
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) g[i * d + j] = g[j * d + i]!;
    st.n[f] = rows.length;
    st.sx.push(sx);
    st.gram.push(g);
    targets.forEach((_, ti) => st.targets[ti]!.sxy.push(sxy[ti]!));
  }
  return st;
}

/** Upper triangle of g += sum over 8 rows of v v^T (rows back to back in `v`). */
function gramUpdate8(g: Float64Array, v: Float64Array, d: number): void {
  const o1 = d;
  const o2 = 2 * d;
  const o3 = 3 * d;
  const o4 = 4 * d;
  const o5 = 5 * d;
  const o6 = 6 * d;
  const o7 = 7 * d;
  for (let i = 0; i < d; i++) {
    const a0 = v[i]!;
    const a1 = v[o1 + i]!;
    const a2 = v[o2 + i]!;
    const a3 = v[o3 + i]!;
    const a4 = v[o4 + i]!;
    const a5 = v[o5 + i]!;
    const a6 = v[o6 + i]!;
    const a7 = v[o7 + i]!;
    const row = i * d;
    for (let j = i; j < d; j++) {
      g[row + j]! +=
        a0 * v[j]! + a1 * v[o1 + j]! + a2 * v[o2 + j]! + a3 * v[o3 + j]! + a4 * v[o4 + j]! + a5 * v[o5 + j]! + a6 * v[o6 + j]! + a7 * v[o7 + j]!;
    }
  }
}

function gramUpdate1(g: Float64Array, v: Float64Array, d: number): void {
  for (let i = 0; i < d; i++) {
    const a = v[i]!;
    const row = i * d;
    for (let j = i; j < d; j++) g[row + j]! += a * v[j]!;
  }
}

/** Training set = every fold but `out`: its row count, sum x, Gram and per-target sums. */
interface Training {
  n: number;
  sx: Float64Array;
  gram: Float64Array;
  sy: number[];
  sxy: Float64Array[];
}

function training(st: FoldStats, out: readonly number[]): Training {
  const { d, k } = st;
  const sx = new Float64Array(d);
  const gram = new Float64Array(d * d);
  const sxy = st.targets.map(() => new Float64Array(d));
  const sy = st.targets.map(() => 0);
  let n = 0;
  for (let f = 0; f < k; f++) {
    if (out.includes(f)) continue;
    n += st.n[f]!;
    addInto(sx, st.sx[f]!);
    addInto(gram, st.gram[f]!);
    st.targets.forEach((t, ti) => {
      addInto(sxy[ti]!, t.sxy[f]!);
      sy[ti]! += t.sy[f]!;
    });
  }
  return { n, sx, gram, sy, sxy };
}

function addInto(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
}

/** Lower Cholesky factor of (a + shift I) (a symmetric positive semi-definite, d x d row-major). */
function cholesky(a: Float64Array, d: number, shift: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let j = 0; j <= i; j++) {
      const rj = j * d;
      let s = a[ri + j]! + (i === j ? shift : 0);
      for (let p = 0; p < j; p++) s -= l[ri + p]! * l[rj + p]!;
      if (i === j) {
        if (!(s > 0)) throw new Error(`cholesky: matrix not positive definite at row ${i} (pivot ${s})`);
        l[ri + i] = Math.sqrt(s);
      } else {
        l[ri + j] = s / l[rj + j]!;
      }
    }
  }
  return l;
}

/** Solve (L L^T) x = b. */
function choleskySolve(l: Float64Array, d: number, b: Float64Array): Float64Array {
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= l[i * d + p]! * y[p]!;
    y[i] = s / l[i * d + i]!;
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let p = i + 1; p < d; p++) s -= l[p * d + i]! * x[p]!;
    x[i] = s / l[i * d + i]!;
  }
  return x;
}

const dotv = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** x^T A x for symmetric A. */
function quadForm(a: Float64Array, x: Float64Array, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) {
    let r = 0;
    const row = i * d;
    for (let j = 0; j < d; j++) r += a[row + j]! * x[j]!;
    s += x[i]! * r;
  }
  return s;
}

/** Centred Gram of a training set: sum (x - m)(x - m)^T = G - n m m^T. */
function centredGram(t: Training, d: number): Float64Array {
  const c = Float64Array.from(t.gram);
  if (t.n === 0) return c;
  for (let i = 0; i < d; i++) {
    const mi = t.sx[i]! / t.n;
    for (let j = 0; j < d; j++) c[i * d + j]! -= t.n * mi * (t.sx[j]! / t.n);
  }
  return c;
}

/**
 * Householder reduction of a symmetric matrix to tridiagonal form, A = Q T Q^T: done once per
 * training set, it solves (A + lambda I) w = b for every lambda in O(d^2) (two reflector
 * sweeps and a tridiagonal solve) instead of a Cholesky factorisation per lambda.
 */
interface Tridiagonal {
  d: number;
  diag: Float64Array;
  off: Float64Array;
  /** Reflector k acts on entries k+1..d-1: I - beta_k v_k v_k^T. */
  v: Float64Array[];
  beta: Float64Array;
}

function tridiagonalize(a: Float64Array, d: number): Tridiagonal {
  const m = Float64Array.from(a);
  const v: Float64Array[] = [];
  const beta = new Float64Array(Math.max(0, d - 2));
  const off = new Float64Array(Math.max(0, d - 1));
  const p = new Float64Array(d);
  for (let k = 0; k < d - 2; k++) {
    const len = d - k - 1;
    const h = new Float64Array(len);
    let norm = 0;
    for (let i = 0; i < len; i++) {
      h[i] = m[(k + 1 + i) * d + k]!;
      norm += h[i]! * h[i]!;
    }
    norm = Math.sqrt(norm);
    const alpha = h[0]! > 0 ? -norm : norm;
    h[0]! -= alpha;
    const vv = dotv(h, h);
    const b = vv > 0 ? 2 / vv : 0;
    v.push(h);
    beta[k] = b;
    off[k] = vv > 0 ? alpha : h[0]! + alpha;
    if (b === 0) continue;
    // p = b A' h, then w = p - (b p.h / 2) h, A' -= h w^T + w h^T; A' kept in its lower triangle
    const base = k + 1;
    p.fill(0, 0, len);
    for (let i = 0; i < len; i++) {
      const row = (base + i) * d + base;
      const hi = h[i]!;
      let s = 0;
      for (let j = 0; j < i; j++) {
        const a = m[row + j]!;
        s += a * h[j]!;
        p[j]! += a * hi;
      }
      p[i]! += s + m[row + i]! * hi;
    }
    let ph = 0;
    for (let i = 0; i < len; i++) {
      p[i]! *= b;
      ph += p[i]! * h[i]!;
    }
    const c = (b * ph) / 2;
    for (let i = 0; i < len; i++) p[i]! -= c * h[i]!;
    for (let i = 0; i < len; i++) {
      const row = (base + i) * d + base;
      const hi = h[i]!;
      const wi = p[i]!;
      for (let j = 0; j <= i; j++) m[row + j]! -= hi * p[j]! + wi * h[j]!;
    }
  }
  if (d >= 2) off[d - 2] = m[(d - 1) * d + d - 2]!;
  const diag = Float64Array.from({ length: d }, (_, i) => m[i * d + i]!);
  return { d, diag, off, v, beta };
}

/** Apply the reflectors to x in place: Q^T x (first to last) or Q x (last to first). */
function reflect(t: Tridiagonal, x: Float64Array, transpose: boolean): void {
  const K = t.v.length;
  for (let s = 0; s < K; s++) {
    const k = transpose ? s : K - 1 - s;
    const h = t.v[k]!;
    const b = t.beta[k]!;
    if (b === 0) continue;
    let dot = 0;
    for (let i = 0; i < h.length; i++) dot += h[i]! * x[k + 1 + i]!;
    const f = b * dot;
    for (let i = 0; i < h.length; i++) x[k + 1 + i]! -= f * h[i]!;
  }
}

/** (A + shift I)^-1 b from A's tridiagonal form (Thomas algorithm: T + shift I is positive definite). */
function shiftedSolve(t: Tridiagonal, shift: number, b: Float64Array): Float64Array {
  const { d, diag, off } = t;
  const y = Float64Array.from(b);
  reflect(t, y, true);
  const c = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const sub = i > 0 ? off[i - 1]! : 0;
    const den = diag[i]! + shift - (i > 0 ? sub * c[i - 1]! : 0);
    if (!(den > 0)) throw new Error(`ridge: matrix not positive definite at row ${i}`);
    c[i] = i < d - 1 ? off[i]! / den : 0;
    y[i] = (y[i]! - (i > 0 ? sub * y[i - 1]! : 0)) / den;
  }
  for (let i = d - 2; i >= 0; i--) y[i]! -= c[i]! * y[i + 1]!;
  reflect(t, y, false);
  return y;
}

/** Ridge with an unpenalised intercept on a training set (centred Gram in tridiagonal form): weights and intercept. */
function ridgeSolve(tri: Tridiagonal, lambda: number, t: Training, ti: number): { w: Float64Array; c: number } {
  const ybar = t.sy[ti]! / t.n;
  const b = Float64Array.from(t.sxy[ti]!, (v, j) => v - t.sx[j]! * ybar);
  const w = shiftedSolve(tri, lambda, b);
  return { w, c: ybar - dotv(t.sx, w) / t.n };
}

/** Squared error of y ~ c + x.w on fold f, from its sums alone. */
function foldSse(st: FoldStats, f: number, ti: number, w: Float64Array, c: number): number {
  const t = st.targets[ti]!;
  const n = st.n[f]!;
  return t.syy[f]! - 2 * c * t.sy[f]! - 2 * dotv(w, t.sxy[f]!) + n * c * c + 2 * c * dotv(w, st.sx[f]!) + quadForm(st.gram[f]!, w, st.d);
}

/**
 * Alpha per outer fold and target: for each pair of folds {a, b} fit on the rest for every
 * alpha (one fit serves inner fold b of outer fold a and inner fold a of outer fold b), sum
 * each outer fold's inner squared errors, take the smallest (the larger alpha on ties).
 */
function chooseAlphas(st: FoldStats, alphas: readonly number[]): number[][] {
  const { d, k } = st;
  const T = st.targets.length;
  // sse[ti][o][ai]: inner squared error of outer fold o at alpha ai
  const sse = Array.from({ length: T }, () => Array.from({ length: k }, () => new Float64Array(alphas.length)));
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const t = training(st, [a, b]);
      if (t.n === 0) continue;
      const tri = tridiagonalize(centredGram(t, d), d);
      alphas.forEach((alpha, ai) => {
        for (let ti = 0; ti < T; ti++) {
          const fit = ridgeSolve(tri, alpha * t.n, t, ti);
          sse[ti]![a]![ai]! += foldSse(st, b, ti, fit.w, fit.c);
          sse[ti]![b]![ai]! += foldSse(st, a, ti, fit.w, fit.c);
        }
      });
    }
  }
  return sse.map((perFold) =>
    perFold.map((e) => {
      let best = 0;
      for (let ai = 1; ai < alphas.length; ai++) if (e[ai]! <= e[best]!) best = ai;
      return alphas[best]!;
    }),
  );
}

/** c + unit row r . w */
function predict(x: Float32Array, dim: number, inv: Float64Array, r: number, w: Float64Array, c: number): number {
  const off = r * dim;
  let s = 0;
  for (let j = 0; j < dim; j++) s += x[off + j]! * w[j]!;
  return c + s * inv[r]!;
}

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The rows with a label, their folds, and why the probe cannot run (if it cannot). */
function labelled(identity: readonly string[], has: (r: number) => boolean, k: number, what: string): { rows: Int32Array; byFold: Int32Array[]; identities: number } | ProbeSkipped {
  const rows: number[] = [];
  for (let r = 0; r < identity.length; r++) if (has(r)) rows.push(r);
  const ids = rows.map((r) => identity[r]!);
  const identities = new Set(ids).size;
  if (identities < k) return { skipped: `${identities} people with ${what}: the probe needs at least ${k} (one per fold)` };
  const fold = identityFolds(ids, k);
  const byFold = Array.from({ length: k }, (_, f) => Int32Array.from(rows.filter((_, i) => fold[i] === f)));
  return { rows: Int32Array.from(rows), byFold, identities };
}

/** Both probes (each on the rows that carry its label), folds by identity. */
export function linearProbes(input: ProbeInput, opts: ProbeOptions = {}): ProbeResults {
  const k = opts.folds ?? PROBE_FOLDS;
  const alphas = opts.alphas ?? PROBE_ALPHAS;
  const { x, dim, identity } = input;
  const n = identity.length;
  if (x.length !== n * dim) throw new Error(`linearProbes: ${n} identities for ${x.length / dim} rows of ${dim}`);
  const inv = inverseNorms(x, dim);
  const age = input.age;
  const male = input.male;
  const ageRows = age ? labelled(identity, (r) => Number.isFinite(age[r]!), k, 'an age') : { skipped: 'no ages' };
  let genderRows = male ? labelled(identity, (r) => male[r] === 0 || male[r] === 1, k, 'a gender') : { skipped: 'no genders' };
  if (!('skipped' in genderRows)) {
    const men = genderRows.rows.reduce((c, r) => c + male![r]!, 0);
    if (men === 0 || men === genderRows.rows.length) genderRows = { skipped: `all ${genderRows.rows.length} images are labelled ${men ? 'male' : 'female'}: nothing to tell apart` };
  }
  const sign = male ? Float64Array.from(male, (m) => (m === 1 ? 1 : -1)) : undefined;
  // one pass over the rows serves both probes when they label the same rows
  const same = !('skipped' in ageRows) && !('skipped' in genderRows) && ageRows.rows.length === genderRows.rows.length && ageRows.rows.every((r, i) => r === genderRows.rows[i]);
  let ageStats: FoldStats | undefined;
  let genderStats: FoldStats | undefined;
  let ageTarget = 0;
  let genderTarget = 0;
  if (same) {
    ageStats = genderStats = foldStats(x, dim, inv, ageRows.byFold, [age!, sign!]);
    genderTarget = 1;
  } else {
    if (!('skipped' in ageRows)) ageStats = foldStats(x, dim, inv, ageRows.byFold, [age!]);
    if (!('skipped' in genderRows)) genderStats = foldStats(x, dim, inv, genderRows.byFold, [sign!]);
  }
  const ageFits = ageStats ? outerFits(ageStats, chooseAlphas(ageStats, alphas)) : [];
  const genderFits = genderStats === ageStats ? ageFits : genderStats ? outerFits(genderStats, chooseAlphas(genderStats, alphas)) : [];
  return {
    age: 'skipped' in ageRows ? ageRows : ridgeProbe(x, dim, inv, ageFits, ageTarget, ageRows.byFold, ageRows.identities, age!),
    gender: 'skipped' in genderRows ? genderRows : logisticProbe(x, dim, inv, genderFits, genderTarget, genderRows.byFold, genderRows.identities, male!),
  };
}

/** Per outer fold: its training set and, per target, the ridge at that target's chosen alpha (one reduction serves all targets). */
interface OuterFit {
  t: Training;
  alpha: number[];
  fit: { w: Float64Array; c: number }[];
}

function outerFits(st: FoldStats, chosen: number[][]): OuterFit[] {
  return Array.from({ length: st.k }, (_, o) => {
    const t = training(st, [o]);
    const tri = tridiagonalize(centredGram(t, st.d), st.d);
    const alpha = chosen.map((perFold) => perFold[o]!);
    return { t, alpha, fit: alpha.map((a, ti) => ridgeSolve(tri, a * t.n, t, ti)) };
  });
}

function ridgeProbe(x: Float32Array, dim: number, inv: Float64Array, outer: OuterFit[], ti: number, byFold: Int32Array[], identities: number, age: Float64Array): AgeProbeResult {
  const k = byFold.length;
  let err = 0;
  let base = 0;
  let n = 0;
  const foldMae: number[] = [];
  for (let o = 0; o < k; o++) {
    const fit = outer[o]!.fit[ti]!;
    const med = median(byFold.flatMap((rows, f) => (f === o ? [] : Array.from(rows, (r) => age[r]!))));
    let e = 0;
    for (const r of byFold[o]!) {
      e += Math.abs(predict(x, dim, inv, r, fit.w, fit.c) - age[r]!);
      base += Math.abs(med - age[r]!);
    }
    err += e;
    n += byFold[o]!.length;
    foldMae.push(e / byFold[o]!.length);
  }
  return { samples: n, identities, folds: k, mae: err / n, baselineMae: base / n, ratio: err / base, foldMae, alpha: outer.map((f) => f.alpha[ti]!) };
}

const softplus = (z: number): number => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Stop when the preconditioned gradient's squared size per row falls below this. */
const LOGISTIC_TOLERANCE = 1e-14;
const LOGISTIC_MAX_ITERATIONS = 300;

function logisticProbe(x: Float32Array, dim: number, inv: Float64Array, outer: OuterFit[], ti: number, byFold: Int32Array[], identities: number, male: Int8Array): GenderProbeResult {
  const k = byFold.length;
  let right = 0;
  let baseRight = 0;
  let loss = 0;
  let baseLoss = 0;
  let n = 0;
  const foldAccuracy: number[] = [];
  const iterations: number[] = [];
  for (let o = 0; o < k; o++) {
    const { t, alpha, fit: ridge } = outer[o]!;
    const rows = Int32Array.from(byFold.flatMap((r, f) => (f === o ? [] : Array.from(r))));
    // warm start: twice the +-1 ridge, the minimiser of the logistic loss's quadratic approximation at 0
    const fit = logisticFit(x, dim, inv, rows, male, t, (alpha[ti]! * t.n) / 4, ridge[ti]!);
    iterations.push(fit.iterations);
    let males = 0;
    for (const r of rows) males += male[r]!;
    const majority = 2 * males >= rows.length ? 1 : 0;
    const share = males / rows.length;
    let ok = 0;
    for (const r of byFold[o]!) {
      const z = predict(x, dim, inv, r, fit.w, fit.c);
      if ((z > 0 ? 1 : 0) === male[r]) ok++;
      if (majority === male[r]) baseRight++;
      loss += softplus(z) - male[r]! * z;
      baseLoss -= Math.log(male[r] === 1 ? share : 1 - share);
    }
    right += ok;
    n += byFold[o]!.length;
    foldAccuracy.push(ok / byFold[o]!.length);
  }
  return { samples: n, identities, folds: k, accuracy: right / n, baselineAccuracy: baseRight / n, foldAccuracy, logLoss: loss / n, baselineLogLoss: baseLoss / n, alpha: outer.map((f) => f.alpha[ti]!), iterations };
}

/**
 * Minimise sum logloss(y, c + x.w) + lambda/2 |w|^2 by preconditioned nonlinear conjugate
 * gradients (Polak-Ribiere+), preconditioned by Boehning's bound on the Hessian
 * ([1 x]^T [1 x] / 4 + lambda, one Cholesky per fit from the Gram already summed), each step
 * with an exact line search (1-D safeguarded Newton, one pass over the rows' margins).
 */
function logisticFit(
  x: Float32Array,
  dim: number,
  inv: Float64Array,
  rows: Int32Array,
  male: Int8Array,
  t: Training,
  lambda: number,
  start: { w: Float64Array; c: number },
): { w: Float64Array; c: number; iterations: number } {
  const d = dim;
  const D = d + 1;
  const m = rows.length;
  // parameters theta = [c, w]; the bound matrix on the same layout
  const bound = new Float64Array(D * D);
  bound[0] = t.n / 4;
  for (let j = 0; j < d; j++) {
    bound[j + 1] = bound[(j + 1) * D] = t.sx[j]! / 4;
    for (let i = 0; i < d; i++) bound[(i + 1) * D + j + 1] = t.gram[i * d + j]! / 4 + (i === j ? lambda : 0);
  }
  const l = cholesky(bound, D, 0);
  const theta = new Float64Array(D);
  theta[0] = 2 * start.c;
  for (let j = 0; j < d; j++) theta[j + 1] = 2 * start.w[j]!;
  const y = Float64Array.from(rows, (r) => male[r]!);
  const z = new Float64Array(m);
  const u = new Float64Array(m);
  const margins = (th: Float64Array, out: Float64Array) => {
    const w = th.subarray(1);
    rows.forEach((r, i) => (out[i] = predict(x, dim, inv, r, w, th[0]!)));
  };
  const gradient = (): Float64Array => {
    const g = new Float64Array(D);
    for (let i = 0; i < m; i++) {
      const e = sigmoid(z[i]!) - y[i]!;
      g[0]! += e;
      const r = rows[i]!;
      const f = e * inv[r]!;
      const off = r * dim - 1;
      for (let j = 1; j < D; j++) g[j]! += f * x[off + j]!;
    }
    for (let j = 1; j < D; j++) g[j]! += lambda * theta[j]!;
    return g;
  };
  margins(theta, z);
  let g = gradient();
  let h = choleskySolve(l, D, g);
  let dir = h.map((v) => -v);
  let gh = dotv(g, h);
  let it = 0;
  while (it < LOGISTIC_MAX_ITERATIONS && gh > LOGISTIC_TOLERANCE * m) {
    it++;
    if (dotv(g, dir) >= 0) dir = h.map((v) => -v); // not a descent direction: restart
    margins(dir, u);
    const step = lineSearch(z, u, y, theta, dir, lambda);
    for (let j = 0; j < D; j++) theta[j]! += step * dir[j]!;
    for (let i = 0; i < m; i++) z[i]! += step * u[i]!;
    const gNew = gradient();
    const hNew = choleskySolve(l, D, gNew);
    const ghNew = dotv(gNew, hNew);
    const beta = Math.max(0, (ghNew - dotv(gNew, h)) / gh);
    dir = hNew.map((v, j) => -v + beta * dir[j]!);
    g = gNew;
    h = hNew;
    gh = ghNew;
  }
  return { w: theta.slice(1), c: theta[0]!, iterations: it };
}

/** The t >= 0 minimising the objective along theta + t dir (margins z + t u): safeguarded Newton on the convex 1-D function. */
function lineSearch(z: Float64Array, u: Float64Array, y: Float64Array, theta: Float64Array, dir: Float64Array, lambda: number): number {
  let wd = 0;
  let dd = 0;
  for (let j = 1; j < theta.length; j++) {
    wd += theta[j]! * dir[j]!;
    dd += dir[j]! * dir[j]!;
  }
  const slope = (t: number): { d1: number; d2: number } => {
    let d1 = lambda * (wd + t * dd);
    let d2 = lambda * dd;
    for (let i = 0; i < z.length; i++) {
      const p = sigmoid(z[i]! + t * u[i]!);
      d1 += (p - y[i]!) * u[i]!;
      d2 += p * (1 - p) * u[i]! * u[i]!;
    }
    return { d1, d2 };
  };
  let lo = 0;
  let hi = 1;
  for (let s = slope(hi); s.d1 < 0 && hi < 1e6; s = slope(hi)) {
    lo = hi;
    hi *= 2;
  }
  let t = (lo + hi) / 2;
  for (let iter = 0; iter < 50; iter++) {
    const s = slope(t);
    if (s.d1 === 0) return t;
    if (s.d1 < 0) lo = t;
    else hi = t;
    const next = t - s.d1 / s.d2;
    const prev = t;
    t = next > lo && next < hi && Number.isFinite(next) ? next : (lo + hi) / 2;
    if (Math.abs(t - prev) < 1e-12 * Math.max(1, t) || hi - lo < 1e-12 * Math.max(1, hi)) break;
  }
  return t;
}
