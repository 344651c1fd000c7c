/**
 * The seeded PRNG every pair list is drawn with: sfc32 (Chris Doty-Humphrey's Small Fast
 * Counting generator, 32-bit), seeded by splitmix32 so that any (seed, stream) pair gives
 * an independent, well-mixed start. Pure 32-bit integer arithmetic: the same numbers on
 * every machine and JavaScript engine, unlike Math.random.
 *
 * Seeding: x = seed XOR (stream * 0x9E3779B9); the four state words a, b, c, d are four
 * successive splitmix32(x) outputs; then 12 outputs are discarded.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in 0..4294967295, got ${seed}`);
    let x = (seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0;
    const splitmix32 = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix32();
    this.b = splitmix32();
    this.c = splitmix32();
    this.d = splitmix32();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n), n <= 2^32, without modulo bias (rejection). */
  below(n: number): number {
    if (!(n >= 1 && n <= 0x100000000)) throw new RangeError(`below(n) needs 1 <= n <= 2^32, got ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const v = this.nextU32();
      if (v < limit) return v % n;
    }
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T extends { [i: number]: unknown; length: number }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }
}
