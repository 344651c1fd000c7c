// AssemblyScript: FFHQ's fused transform + Lanczos shrink (src/align/warp.ts `transformResize` is the
// JavaScript reference): the same f64 operations in the same order, two channels or two values per
// f64x2, so the bytes are the same. Pointers are byte offsets laid out by src/align/simd/ffhq.ts.

const FLOOR_SLACK: f64 = 1e-6;

@inline function floorByte(v: f64): u8 {
  return v < -FLOOR_SLACK ? 0 : v >= 255 ? 255 : <u8>(<i32>(v + FLOOR_SLACK));
}

@inline function chan(p: i32, shift: i32): f64 {
  return <f64>((p >> shift) & 255);
}

/** `count` PIL bilinear samples from (sx, sy) by (dx, dy) of `src` (packed, w x h) into f32 RGB at `out`. */
function sampleRow(src: usize, w: i32, h: i32, sx: f64, sy: f64, dx: f64, dy: f64, count: i32, out: usize): void {
  const ex = sx + <f64>(count - 1) * dx, ey = sy + <f64>(count - 1) * dy;
  if (min(sx, ex) >= 0 && min(sy, ey) >= 0 && max(sx, ex) < <f64>(w - 1) && max(sy, ey) < <f64>(h - 1)) {
    let o = out;
    for (let u = 0; u < count; u++, o += 12) {
      const x = sx + <f64>u * dx, y = sy + <f64>u * dy;
      const x0 = <i32>x, y0 = <i32>y;
      const fx = x - <f64>x0, fy = y - <f64>y0;
      const i = src + (<usize>(y0 * w + x0) << 2), j = i + (<usize>w << 2);
      const p0 = load<i32>(i), p1 = load<i32>(i, 4), p2 = load<i32>(j), p3 = load<i32>(j, 4);
      const r0 = p0 & 255, g0 = (p0 >> 8) & 255, b0 = p0 >> 16, r2 = p2 & 255, g2 = (p2 >> 8) & 255, b2 = p2 >> 16;
      const rt = <f64>r0 + <f64>((p1 & 255) - r0) * fx, gt = <f64>g0 + <f64>(((p1 >> 8) & 255) - g0) * fx, bt = <f64>b0 + <f64>((p1 >> 16) - b0) * fx;
      store<f32>(o, <f32>(rt + (<f64>r2 + <f64>((p3 & 255) - r2) * fx - rt) * fy));
      store<f32>(o, <f32>(gt + (<f64>g2 + <f64>(((p3 >> 8) & 255) - g2) * fx - gt) * fy), 4);
      store<f32>(o, <f32>(bt + (<f64>b2 + <f64>((p3 >> 16) - b2) * fx - bt) * fy), 8);
    }
    return;
  }
  let o = out;
  for (let u = 0; u < count; u++, o += 12) {
    const x = sx + <f64>u * dx, y = sy + <f64>u * dy;
    if (x < -0.5 || y < -0.5 || x >= <f64>w - 0.5 || y >= <f64>h - 0.5) {
      store<f32>(o, 0);
      store<f32>(o, 0, 4);
      store<f32>(o, 0, 8);
      continue;
    }
    const xf = Math.floor(x), yf = Math.floor(y);
    const x0 = <i32>xf, y0 = <i32>yf;
    const fx = x - xf, fy = y - yf;
    const xa = x0 > 0 ? x0 : 0, xb = x0 + 1 < w - 1 ? x0 + 1 : w - 1;
    const ya = (y0 > 0 ? y0 : 0) * w, yb = (y0 + 1 < h - 1 ? y0 + 1 : h - 1) * w;
    const ptl = load<i32>(src + (<usize>(ya + xa) << 2)), ptr = load<i32>(src + (<usize>(ya + xb) << 2));
    const pbl = load<i32>(src + (<usize>(yb + xa) << 2)), pbr = load<i32>(src + (<usize>(yb + xb) << 2));
    for (let c = 0, shift = 0; c < 3; c++, shift += 8) {
      const tl = chan(ptl, shift), tr = chan(ptr, shift), bl = chan(pbl, shift), br = chan(pbr, shift);
      const top = tl + (tr - tl) * fx;
      store<f32>(o + (<usize>c << 2), <f32>(top + (bl + (br - bl) * fx - top) * fy));
    }
  }
}

// (r, g) of the sample at f32 offset p as f64x2, and its b
@inline function rg(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}
@inline function bl(p: usize): f64 {
  return <f64>load<f32>(p, 8);
}

/**
 * Six taps (from byte `from` past each window's start) of output pixels [xa, xb) of one sample row
 * into `out` (f64 RGB): `=` when first, else `+=` the six-term sum, as warp.ts's filterSix.
 */
function filterSix(row: usize, start: usize, from: usize, xa: i32, xb: i32, out: usize, pattern: usize, first: bool): void {
  const w0 = load<f64>(pattern), w1 = load<f64>(pattern, 8), w2 = load<f64>(pattern, 16);
  const w3 = load<f64>(pattern, 24), w4 = load<f64>(pattern, 32), w5 = load<f64>(pattern, 40);
  const v0 = f64x2.splat(w0), v1 = f64x2.splat(w1), v2 = f64x2.splat(w2), v3 = f64x2.splat(w3), v4 = f64x2.splat(w4), v5 = f64x2.splat(w5);
  let o = out + <usize>xa * 24;
  for (let X = xa; X < xb; X++, o += 24) {
    const i = row + <usize>load<i32>(start + (<usize>X << 2)) * 12 + from;
    let s = f64x2.mul(v0, rg(i));
    s = f64x2.add(s, f64x2.mul(v1, rg(i + 12)));
    s = f64x2.add(s, f64x2.mul(v2, rg(i + 24)));
    s = f64x2.add(s, f64x2.mul(v3, rg(i + 36)));
    s = f64x2.add(s, f64x2.mul(v4, rg(i + 48)));
    s = f64x2.add(s, f64x2.mul(v5, rg(i + 60)));
    const b = w0 * bl(i) + w1 * bl(i + 12) + w2 * bl(i + 24) + w3 * bl(i + 36) + w4 * bl(i + 48) + w5 * bl(i + 60);
    if (first) {
      v128.store(o, s);
      store<f64>(o, b, 16);
    } else {
      v128.store(o, f64x2.add(v128.load(o), s));
      store<f64>(o, load<f64>(o, 16) + b, 16);
    }
  }
}

/** One sample row filtered horizontally into `out`: the whole windows six taps at a time, then the cut ones. */
function filterRow(row: usize, taps: i32, pattern: usize, xa: i32, xb: i32, start: usize, lo: usize, hi: usize, weights: usize, cut: usize, cuts: i32, out: usize): void {
  for (let t = 0; t < taps; t += 6) filterSix(row, start, <usize>t * 12, xa, xb, out, pattern + (<usize>t << 3), t == 0);
  for (let c = 0; c < cuts; c++) {
    const X = load<i32>(cut + (<usize>c << 2));
    const u1 = load<i32>(hi + (<usize>X << 2));
    const wi = X * taps - load<i32>(start + (<usize>X << 2));
    let r: f64 = 0, g: f64 = 0, b: f64 = 0;
    for (let u = load<i32>(lo + (<usize>X << 2)); u < u1; u++) {
      const wt = load<f64>(weights + (<usize>(wi + u) << 3));
      const p = row + <usize>u * 12;
      r += wt * <f64>load<f32>(p);
      g += wt * <f64>load<f32>(p, 4);
      b += wt * <f64>load<f32>(p, 8);
    }
    const o = out + <usize>X * 24;
    store<f64>(o, r);
    store<f64>(o, g, 8);
    store<f64>(o, b, 16);
  }
}

/** sum (=, or += unless first) the six ring rows at byte offsets a..f weighted by wa..wf, over `len` values. */
function addRows(a: usize, b: usize, c: usize, d: usize, e: usize, f: usize, wa: f64, wb: f64, wc: f64, wd: f64, we: f64, wf: f64, sum: usize, len: i32, first: bool): void {
  const va = f64x2.splat(wa), vb = f64x2.splat(wb), vc = f64x2.splat(wc), vd = f64x2.splat(wd), ve = f64x2.splat(we), vf = f64x2.splat(wf);
  let i: usize = 0;
  const end = <usize>len << 3;
  for (; i + 16 <= end; i += 16) {
    let s = f64x2.mul(va, v128.load(a + i));
    s = f64x2.add(s, f64x2.mul(vb, v128.load(b + i)));
    s = f64x2.add(s, f64x2.mul(vc, v128.load(c + i)));
    s = f64x2.add(s, f64x2.mul(vd, v128.load(d + i)));
    s = f64x2.add(s, f64x2.mul(ve, v128.load(e + i)));
    s = f64x2.add(s, f64x2.mul(vf, v128.load(f + i)));
    v128.store(sum + i, first ? s : f64x2.add(v128.load(sum + i), s));
  }
  for (; i < end; i += 8) {
    const s = wa * load<f64>(a + i) + wb * load<f64>(b + i) + wc * load<f64>(c + i) + wd * load<f64>(d + i) + we * load<f64>(e + i) + wf * load<f64>(f + i);
    store<f64>(sum + i, first ? s : load<f64>(sum + i) + s);
  }
}

/**
 * warp.ts's transformResize after its set-up: `src` packed (w x h), `inverse` m0..m5, `size` output
 * pixels a side at `samples` per pixel (`step` transform pixels per sample, `g0` sample 0's
 * coordinate); the row filter's arrays (lanczosTaps + rowFilter); scratch: `row` (n * 3 f32 + 18
 * zeros), `ring` (taps rows of size * 3 f64), `sum`; `out`: size x size RGB bytes.
 */
export function transformResize(
  src: usize, w: i32, h: i32, m0: f64, m1: f64, m2: f64, m3: f64, m4: f64, m5: f64, size: i32, samples: i32, step: f64, g0: f64,
  taps: i32, pattern: usize, xa: i32, xb: i32, start: usize, lo: usize, hi: usize, weights: usize, cut: usize, cuts: i32,
  row: usize, ring: usize, sum: usize, out: usize,
): void {
  const n = size * samples, out3 = size * 3;
  const dx = m0 * step, dy = m3 * step;
  if (samples == 1) {
    for (let v = 0; v < size; v++) {
      const g = (<f64>v + 0.5) * step - 0.5;
      sampleRow(src, w, h, m0 * g0 + m1 * g + m2, m3 * g0 + m4 * g + m5, dx, dy, n, row);
      const o = out + <usize>(v * out3);
      for (let i = 0; i < out3; i++) store<u8>(o + <usize>i, floorByte(<f64>load<f32>(row + (<usize>i << 2))));
    }
    return;
  }
  const rowBytes = <usize>out3 << 3;
  let next = 0;
  for (let Y = 0; Y < size; Y++) {
    const hiY = load<i32>(hi + (<usize>Y << 2)), loY = load<i32>(lo + (<usize>Y << 2));
    for (; next < hiY; next++) {
      const g = (<f64>next + 0.5) * step - 0.5;
      sampleRow(src, w, h, m0 * g0 + m1 * g + m2, m3 * g0 + m4 * g + m5, dx, dy, n, row);
      filterRow(row, taps, pattern, xa, xb, start, lo, hi, weights, cut, cuts, ring + <usize>(next % taps) * rowBytes);
    }
    const wy = Y * taps - load<i32>(start + (<usize>Y << 2));
    for (let v = loY; v < hiY; v += 6) {
      let a0: usize = 0, a1: usize = 0, a2: usize = 0, a3: usize = 0, a4: usize = 0, a5: usize = 0;
      let w0: f64 = 0, w1: f64 = 0, w2: f64 = 0, w3: f64 = 0, w4: f64 = 0, w5: f64 = 0;
      for (let j = 0; j < 6; j++) {
        const inside = v + j < hiY;
        const at = ring + <usize>((inside ? v + j : v) % taps) * rowBytes;
        const wt = inside ? load<f64>(weights + (<usize>(wy + v + j) << 3)) : 0;
        if (j == 0) { a0 = at; w0 = wt; } else if (j == 1) { a1 = at; w1 = wt; } else if (j == 2) { a2 = at; w2 = wt; }
        else if (j == 3) { a3 = at; w3 = wt; } else if (j == 4) { a4 = at; w4 = wt; } else { a5 = at; w5 = wt; }
      }
      addRows(a0, a1, a2, a3, a4, a5, w0, w1, w2, w3, w4, w5, sum, out3, v == loY);
    }
    const o = out + <usize>(Y * out3);
    for (let i = 0; i < out3; i++) store<u8>(o + <usize>i, floorByte(load<f64>(sum + (<usize>i << 3))));
  }
}
