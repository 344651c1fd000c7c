// AssemblyScript: PIL's 8-bit bilinear resize passes (src/align/mtcnn/resample.ts is the JavaScript
// reference, same integer arithmetic), one pixel's channels per i32x4. Pointers are byte offsets
// into this module's memory, laid out by src/align/simd/memory.ts. Built by scripts/build-wasm.mjs.

// PIL's fixed point: 22 fraction bits, sums start at one half
const PRECISION_BITS: i32 = 22;
const HALF: i32 = 1 << (PRECISION_BITS - 1);

// one packed pixel (r | g << 8 | b << 16) at p as i32x4 (r, g, b, 0)
@inline function pixel(p: usize): v128 {
  return i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p)));
}

// i32x4 sums (r, g, b, 0) to the packed pixel: >> 22, clipped to 0..255 (PIL's clip8)
@inline function packed(acc: v128): i32 {
  const s = i32x4.shr_s(acc, PRECISION_BITS);
  const n = i16x8.narrow_i32x4_s(s, s);
  return i32x4.extract_lane(i8x16.narrow_i16x8_u(n, n), 0);
}

/** Bytes of one channel plane of an image of w x h in the quad layout (toQuads). */
@inline function quadPlane(w: i32, h: i32): usize {
  return <usize>((h + 3) >> 2) * <usize>w << 4;
}

/**
 * `src` (packed, w x h) into three channel planes of i32 at `q` in which the 4 rows of a group
 * (0-3, 4-7, ...) sit side by side per column: the horizontal pass then filters 4 rows of a
 * channel per i32x4. Rows past the last are zeros.
 */
export function toQuads(src: usize, w: i32, h: i32, q: usize): void {
  const plane = quadPlane(w, h);
  memory.fill(q, 0, plane * 3);
  for (let y = 0; y < h; y++) {
    const row = src + (<usize>(y * w) << 2);
    let o = q + (<usize>(y >> 2) * <usize>w << 4) + (<usize>(y & 3) << 2);
    for (let x = 0; x < w; x++, o += 16) {
      const v = load<i32>(row + (<usize>x << 2));
      store<i32>(o, v & 255);
      store<i32>(o + plane, (v >> 8) & 255);
      store<i32>(o + 2 * plane, v >> 16);
    }
  }
}

/**
 * The horizontal pass of an image in the quad layout (`q`, w x h: toQuads) over rows ry..ry+rh of
 * the region whose first column is rx, into `out` (packed, outW x rh), 4 rows per step; taps
 * outside the image are skipped, rows outside it come out black. start/count/weights: PIL's
 * coefficients, `size` weights per output pixel.
 */
export function horizontal(
  q: usize, w: i32, h: i32, rx: i32, ry: i32, rh: i32,
  outW: i32, start: usize, count: usize, weights: usize, size: i32, out: usize,
): void {
  memory.fill(out, 0, <usize>(outW * rh) << 2);
  const plane = quadPlane(w, h);
  const y0 = ry > 0 ? ry : 0, y1 = ry + rh < h ? ry + rh : h;
  const top = i32x4.splat(255);
  for (let g = y0 >> 2; g << 2 < y1; g++) {
    const rowR = q + (<usize>g * <usize>w << 4), rowG = rowR + plane, rowB = rowG + plane;
    const ya = g << 2;
    for (let xx = 0; xx < outW; xx++) {
      const c0 = rx + load<i32>(start + (<usize>xx << 2));
      const n = load<i32>(count + (<usize>xx << 2));
      const lo = c0 < 0 ? -c0 : 0;
      let hi = w - c0;
      if (n < hi) hi = n;
      let r = i32x4.splat(HALF), gr = r, b = r;
      let wp = weights + (<usize>(xx * size + lo) << 2);
      let p = <usize>(c0 + lo) << 4;
      for (let k = lo; k < hi; k++, wp += 4, p += 16) {
        const wt = i32x4.splat(load<i32>(wp));
        r = i32x4.add(r, i32x4.mul(v128.load(rowR + p), wt));
        gr = i32x4.add(gr, i32x4.mul(v128.load(rowG + p), wt));
        b = i32x4.add(b, i32x4.mul(v128.load(rowB + p), wt));
      }
      // PIL's clip8 of each channel (the sums are never negative), packed r | g << 8 | b << 16, a row per lane
      const pk = v128.or(
        v128.or(i32x4.min_s(i32x4.shr_s(r, PRECISION_BITS), top), i32x4.shl(i32x4.min_s(i32x4.shr_s(gr, PRECISION_BITS), top), 8)),
        i32x4.shl(i32x4.min_s(i32x4.shr_s(b, PRECISION_BITS), top), 16),
      );
      const o = out + (<usize>xx << 2);
      if (ya >= y0 && ya < y1) store<i32>(o + (<usize>((ya - ry) * outW) << 2), i32x4.extract_lane(pk, 0));
      if (ya + 1 >= y0 && ya + 1 < y1) store<i32>(o + (<usize>((ya + 1 - ry) * outW) << 2), i32x4.extract_lane(pk, 1));
      if (ya + 2 >= y0 && ya + 2 < y1) store<i32>(o + (<usize>((ya + 2 - ry) * outW) << 2), i32x4.extract_lane(pk, 2));
      if (ya + 3 >= y0 && ya + 3 < y1) store<i32>(o + (<usize>((ya + 3 - ry) * outW) << 2), i32x4.extract_lane(pk, 3));
    }
  }
}

/**
 * The vertical pass of `src` (packed, width wide) into RGB bytes (width x outH, 3 per pixel, 4 bytes
 * of slack past the end), 4 pixels per step: each tap row's 16 bytes widened to four i32x4.
 */
export function vertical(src: usize, width: i32, outH: i32, start: usize, count: usize, weights: usize, size: i32, out: usize): void {
  const stride = <usize>width << 2;
  const half = i32x4.splat(HALF);
  let o = out;
  for (let yy = 0; yy < outH; yy++) {
    const n = load<i32>(count + (<usize>yy << 2));
    const row = src + <usize>load<i32>(start + (<usize>yy << 2)) * stride;
    const wy = weights + (<usize>(yy * size) << 2);
    let x = 0;
    for (; x + 4 <= width; x += 4, o += 12) {
      let a0 = half, a1 = half, a2 = half, a3 = half;
      let p = row + (<usize>x << 2);
      for (let k = 0; k < n; k++, p += stride) {
        const w = i32x4.splat(load<i32>(wy + (<usize>k << 2)));
        const v = v128.load(p);
        const lo = i16x8.extend_low_i8x16_u(v), hi = i16x8.extend_high_i8x16_u(v);
        a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(lo), w));
        a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_high_i16x8_u(lo), w));
        a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(hi), w));
        a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_high_i16x8_u(hi), w));
      }
      const b = i8x16.narrow_i16x8_u(
        i16x8.narrow_i32x4_s(i32x4.shr_s(a0, PRECISION_BITS), i32x4.shr_s(a1, PRECISION_BITS)),
        i16x8.narrow_i32x4_s(i32x4.shr_s(a2, PRECISION_BITS), i32x4.shr_s(a3, PRECISION_BITS)),
      );
      // drop every 4th byte (the pixels' empty top byte): 12 bytes of RGB, 4 of slack overwritten next
      v128.store(o, i8x16.shuffle(b, b, 0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15, 15, 15, 15));
    }
    for (; x < width; x++, o += 3) {
      let acc = half;
      let p = row + (<usize>x << 2);
      for (let k = 0; k < n; k++, p += stride) acc = i32x4.add(acc, i32x4.mul(pixel(p), i32x4.splat(load<i32>(wy + (<usize>k << 2)))));
      const v = packed(acc);
      store<u8>(o, <u8>v);
      store<u8>(o + 1, <u8>(v >> 8));
      store<u8>(o + 2, <u8>(v >> 16));
    }
  }
}

/** RGB bytes (n pixels) to the nets' input planes, channels first: (p - 127.5) * 0.0078125, exact in f32. */
export function normalize(rgb: usize, n: i32, out: usize): void {
  const plane = <usize>n << 2;
  for (let i = 0; i < n; i++) {
    const p = rgb + <usize>(i * 3);
    const o = out + (<usize>i << 2);
    store<f32>(o, (<f32>load<u8>(p) - 127.5) * 0.0078125);
    store<f32>(o + plane, (<f32>load<u8>(p + 1) - 127.5) * 0.0078125);
    store<f32>(o + 2 * plane, (<f32>load<u8>(p + 2) - 127.5) * 0.0078125);
  }
}
