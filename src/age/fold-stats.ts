/** The per-fold sums of the probes' closed-form fits (src/age/probe.ts), and predictions from a fit. */

/** Per-fold sums the closed-form fits need: rows, sum x, sum x x^T, and per target sum y, y^2, x y. */
export interface FoldStats {
  d: number;
  k: number;
  n: Float64Array;
  sx: Float64Array[];
  gram: Float64Array[];
  targets: { sy: Float64Array; syy: Float64Array; sxy: Float64Array[] }[];
}

/** 1 / ||row|| of every row (0 for a zero row). */
export function inverseNorms(x: Float32Array, dim: number): Float64Array {
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

export function foldStats(x: Float32Array, dim: number, inv: Float64Array, rowsByFold: Int32Array[], targets: Float64Array[]): FoldStats {
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
export interface Training {
  n: number;
  sx: Float64Array;
  gram: Float64Array;
  sy: number[];
  sxy: Float64Array[];
}

export function training(st: FoldStats, out: readonly number[]): Training {
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

/** Centred Gram of a training set: sum (x - m)(x - m)^T = G - n m m^T. */
export function centredGram(t: Training, d: number): Float64Array {
  const c = Float64Array.from(t.gram);
  if (t.n === 0) return c;
  for (let i = 0; i < d; i++) {
    const mi = t.sx[i]! / t.n;
    for (let j = 0; j < d; j++) c[i * d + j]! -= t.n * mi * (t.sx[j]! / t.n);
  }
  return c;
}

/** c + unit row r . w */
export function predict(x: Float32Array, dim: number, inv: Float64Array, r: number, w: Float64Array, c: number): number {
  const off = r * dim;
  let s = 0;
  for (let j = 0; j < dim; j++) s += x[off + j]! * w[j]!;
  return c + s * inv[r]!;
}
