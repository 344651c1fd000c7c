/**
 * The largest photo ecaf keeps, in pixels, for crawl (`too_large`) and align (`decode_error`)
 * alike, so that a photo crawl stores is one align can decode. 60 megapixels: an align worker
 * holds the decoded photo more than once (RGB at 3 bytes a pixel, and the detector's copy),
 * about 0.5 GB a worker at 60 MP; web face photos are far smaller, and crawl's default 20 MB
 * body limit refuses most larger files before their size is read.
 */
export const MAX_PIXELS = 60_000_000;

/** Why a `width` x `height` photo is refused, or undefined when it is within MAX_PIXELS. */
export function pixelLimitProblem(width: number, height: number): string | undefined {
  return width * height > MAX_PIXELS ? `${width}x${height} is over ${MAX_PIXELS / 1e6} megapixels` : undefined;
}
