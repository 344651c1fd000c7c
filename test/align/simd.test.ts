import { packRgb, resizeRegionJs, resizeRegionPil, resizeToInput, type Region } from '../../src/align/mtcnn/resample.js';
import { simdAvailable, useSimd } from '../../src/align/simd/kernels.js';
import type { Affine } from '../../src/align/similarity.js';
import { transformResize } from '../../src/align/warp.js';
import type { RgbImage } from '../../src/util/faceapi.js';

/** Seeded random RGB: every tap and byte value matters (the JS kernels are the reference, pinned to PIL by mtcnn.test.ts). */
function noise(width: number, height: number, seed: number): RgbImage {
  let s = seed >>> 0;
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
  return { data, width, height };
}

const rand = (seed: number) => {
  let s = seed >>> 0;
  return (n: number) => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % n);
};

describe('SIMD kernels (WebAssembly) against the JavaScript ones', () => {
  it('load here: dist/wasm/kernels.wasm is built and WebAssembly SIMD is on', () => {
    expect(simdAvailable()).toBe(true);
  });

  it("PIL's bilinear resize: the same bytes on random images, odd sizes and regions passing the edges", () => {
    const r = rand(7);
    const bad: string[] = [];
    for (let c = 0; c < 60; c++) {
      const img = noise(1 + r(97), 1 + r(83), c);
      const packed = packRgb(img);
      // regions inside, across the edges, or outside; shrinks, enlargements, and one axis unchanged
      const region: Region = { x: r(img.width + 20) - 10, y: r(img.height + 20) - 10, width: 1 + r(img.width + 10), height: 1 + r(img.height + 10) };
      const w = c % 7 === 0 ? region.width : 1 + r(61), h = c % 5 === 0 ? region.height : 1 + r(59);
      const js = resizeRegionJs(packed, region, w, h);
      const simd = resizeRegionPil(packed, region, w, h);
      const inJs = new Float32Array(w * h * 3 + 5), inSimd = new Float32Array(w * h * 3 + 5);
      resizeToInput(packed, region, w, h, inSimd, 5);
      const was = useSimd(false);
      resizeToInput(packed, region, w, h, inJs, 5);
      useSimd(was);
      if (Buffer.compare(Buffer.from(js), Buffer.from(simd)) !== 0) bad.push(`bytes ${img.width}x${img.height} ${JSON.stringify(region)} -> ${w}x${h}`);
      if (Buffer.compare(Buffer.from(inJs.buffer), Buffer.from(inSimd.buffer)) !== 0) bad.push(`input ${img.width}x${img.height} ${JSON.stringify(region)} -> ${w}x${h}`);
    }
    expect(bad).toEqual([]);
  });

  it("FFHQ's fused transform + Lanczos shrink: the same bytes at 1 to 4 samples, odd sizes, squares passing the edges", () => {
    const r = rand(11);
    const bad: string[] = [];
    for (let c = 0; c < 24; c++) {
      const img = noise(20 + r(70), 20 + r(70), 100 + c);
      const size = 3 + r(30), samples = 1 + (c % 4), transformSize = 4 * size;
      // the square at a random angle and scale, sometimes well past the photo's edges
      const angle = r(628) / 100, scale = (0.3 + r(300) / 100) * (img.width / transformSize);
      const cos = Math.cos(angle) * scale, sin = Math.sin(angle) * scale;
      const inverse: Affine = [cos, -sin, r(img.width) - img.width / 4, sin, cos, r(img.height) - img.height / 4];
      const simd = transformResize(img, inverse, size, transformSize, samples).data;
      const was = useSimd(false);
      const js = transformResize(img, inverse, size, transformSize, samples).data;
      useSimd(was);
      if (Buffer.compare(js, simd) !== 0) bad.push(`${img.width}x${img.height} -> ${size} at ${samples} samples, ${inverse.map((v) => v.toFixed(3)).join(' ')}`);
    }
    expect(bad).toEqual([]);
  });
});
