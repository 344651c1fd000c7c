/**
 * Blocks of dot products between unit embeddings (cosines), the one primitive of every search
 * over a set of faces: leave-one-out identification and the audit's neighbours. A caller asks a
 * block of rows against many columns at a time, so memory stays O(block x N), never N x N.
 */

/** Dot products of `rows` vectors of `a` with `cols` vectors of `b` (row-major, `dim` each): rows x cols, row-major. */
export type BlockProduct = (a: Float32Array, rows: number, b: Float32Array, cols: number, dim: number) => Float32Array | Promise<Float32Array>;

/** The plain JS product (four gallery vectors per pass over a probe): enough for thousands of images. */
export const jsBlockProduct: BlockProduct = (a, rows, b, cols, dim) => {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const ao = r * dim;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const b0 = c * dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < dim; i++) {
        const x = a[ao + i]!;
        s0 += x * b[b0 + i]!;
        s1 += x * b[b0 + dim + i]!;
        s2 += x * b[b0 + 2 * dim + i]!;
        s3 += x * b[b0 + 3 * dim + i]!;
      }
      out[r * cols + c] = s0;
      out[r * cols + c + 1] = s1;
      out[r * cols + c + 2] = s2;
      out[r * cols + c + 3] = s3;
    }
    for (; c < cols; c++) {
      let s = 0;
      for (let i = 0; i < dim; i++) s += a[ao + i]! * b[c * dim + i]!;
      out[r * cols + c] = s;
    }
  }
  return out;
};
