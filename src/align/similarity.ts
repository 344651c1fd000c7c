/** A point in image pixels: [x, y], origin top-left, pixel centres at integers. */
export type Point = [number, number];

/**
 * A similarity transform (rotation, uniform scale, translation, no reflection):
 * x' = a*x - b*y + tx, y' = b*x + a*y + ty.
 */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/**
 * Least-squares similarity from `src` onto `dst` (Umeyama 1991, no reflection). In 2-D this is
 * the complex regression dst = w * src + t, whose closed form is what Umeyama's SVD reduces to.
 */
export function umeyama(src: readonly Point[], dst: readonly Point[]): Similarity {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new Error(`umeyama: need two equal lists of at least 2 points, got ${n} and ${dst.length}`);
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0];
    sy += src[i]![1];
    dx += dst[i]![0];
    dy += dst[i]![1];
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let num = 0, cross = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]![0] - sx, py = src[i]![1] - sy;
    const qx = dst[i]![0] - dx, qy = dst[i]![1] - dy;
    num += px * qx + py * qy;
    cross += px * qy - py * qx;
    den += px * px + py * py;
  }
  if (den === 0) throw new Error('umeyama: the source points all coincide');
  const a = num / den;
  const b = cross / den;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

export function applySimilarity(t: Similarity, p: Point): Point {
  return [t.a * p[0] - t.b * p[1] + t.tx, t.b * p[0] + t.a * p[1] + t.ty];
}

export function invertSimilarity(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  const a = t.a / d, b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

/** The uniform scale factor of a similarity. */
export function similarityScale(t: Similarity): number {
  return Math.hypot(t.a, t.b);
}

/** The 2x3 affine matrix [m00, m01, m02, m10, m11, m12] of a similarity. */
export function similarityMatrix(t: Similarity): Affine {
  return [t.a, -t.b, t.tx, t.b, t.a, t.ty];
}

/** Row-major 2x3 affine matrix: x' = m0*x + m1*y + m2, y' = m3*x + m4*y + m5. */
export type Affine = [number, number, number, number, number, number];

export function meanDistance(a: readonly Point[], b: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.hypot(a[i]![0] - b[i]![0], a[i]![1] - b[i]![1]);
  return s / a.length;
}
