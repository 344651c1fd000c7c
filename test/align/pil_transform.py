"""PIL's own step 6 of FFHQ in floating point, to check src/align/warp.ts transformResize: each
channel as a float ('F') image, Image.transform(AFFINE, BILINEAR) onto a T x T square, then
resize((N, N), LANCZOS); no 8-bit rounding anywhere.

usage: /usr/bin/python3 pil_transform.py IMAGE A B C D E F T N OUT.raw
A..F map output pixel centres to source pixel centres (x = A X + B Y + C, y = D X + E Y + F).
Writes N*N*3 little-endian float32, RGB interleaved.
"""
import sys

import numpy as np
import PIL.Image


def main():
    image, *coeffs, t, n, out = sys.argv[1:]
    a, b, c, d, e, f = (float(v) for v in coeffs)
    t, n = int(t), int(n)
    # PIL's AFFINE data maps output corner coordinates (X + 0.5) to input corner coordinates
    data = (a, b, c + 0.5 - 0.5 * (a + b), d, e, f + 0.5 - 0.5 * (d + e))
    rgb = np.asarray(PIL.Image.open(image).convert("RGB"), dtype=np.float32)
    planes = []
    for ch in range(3):
        plane = PIL.Image.fromarray(np.ascontiguousarray(rgb[:, :, ch]), "F")
        plane = plane.transform((t, t), PIL.Image.AFFINE, data, PIL.Image.BILINEAR)
        if n < t:
            plane = plane.resize((n, n), PIL.Image.LANCZOS)
        planes.append(np.asarray(plane, dtype=np.float32))
    np.stack(planes, axis=2).astype("<f4").tofile(out)


if __name__ == "__main__":
    main()
