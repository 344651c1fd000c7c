/**
 * A perceptual hash of an aligned face (the DCT hash of pHash): the face as 32x32 grey, its 2-D
 * DCT-II, the 8x8 lowest frequencies each compared with their median: 64 bits that survive
 * re-encoding and resizing, and change with the picture.
 */
import sharp from 'sharp';

export const HASH_SIDE = 32;
const LOW = 8;

/** cos((2x + 1) u pi / 2N) for u < LOW, x < N: the DCT's basis, once. */
const BASIS = (() => {
  const b = new Float64Array(LOW * HASH_SIDE);
  for (let u = 0; u < LOW; u++) for (let x = 0; x < HASH_SIDE; x++) b[u * HASH_SIDE + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * HASH_SIDE));
  return b;
})();

/** The 8x8 low-frequency DCT-II coefficients (unnormalised) of a 32x32 grey image, row-major by (v, u). */
export function lowDct(grey: ArrayLike<number>): Float64Array {
  const N = HASH_SIDE;
  // rows first: t[y][u] = sum_x g[y][x] cos(..u..x..), then columns
  const t = new Float64Array(N * LOW);
  for (let y = 0; y < N; y++) for (let u = 0; u < LOW; u++) {
    let s = 0;
    for (let x = 0; x < N; x++) s += grey[y * N + x]! * BASIS[u * N + x]!;
    t[y * LOW + u] = s;
  }
  const out = new Float64Array(LOW * LOW);
  for (let v = 0; v < LOW; v++) for (let u = 0; u < LOW; u++) {
    let s = 0;
    for (let y = 0; y < N; y++) s += t[y * LOW + u]! * BASIS[v * N + y]!;
    out[v * LOW + u] = s;
  }
  return out;
}

/** 64 bits as [high 32, low 32]: bit k (row-major over the 8x8) set where the coefficient exceeds the median of the 63 AC ones. */
export function hashOfGrey(grey: ArrayLike<number>): [number, number] {
  const c = lowDct(grey);
  const ac = Array.from(c.subarray(1)).sort((a, b) => a - b);
  const median = (ac[31]! + ac[32]!) / 2;
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < 64; k++) {
    if (c[k]! <= median) continue;
    if (k < 32) hi |= 1 << (31 - k);
    else lo |= 1 << (63 - k);
  }
  return [hi >>> 0, lo >>> 0];
}

const popcount = (v: number): number => {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
};

/** Bits that differ between hashes i and j of a packed array (2 uint32 per hash). */
export function hashDistance(h: Uint32Array, i: number, j: number): number {
  return popcount((h[2 * i]! ^ h[2 * j]!) >>> 0) + popcount((h[2 * i + 1]! ^ h[2 * j + 1]!) >>> 0);
}

/** The hash of an image file: decoded, made grey (Rec. 601 luma) and resized to 32x32 by sharp. */
export async function hashOfFile(file: string): Promise<[number, number]> {
  const { data } = await sharp(file).removeAlpha().greyscale().resize(HASH_SIDE, HASH_SIDE, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  return hashOfGrey(data);
}
