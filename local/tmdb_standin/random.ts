/**
 * Deterministic randomness for the TMDB stand-in: a mulberry32 PRNG for streams and a
 * stateless 32-bit integer hash for "random access" decisions (does movie X change on day D?).
 *
 * Everything the stand-in serves is derived from these two, so the same seed always yields
 * the same catalog, the same change instants and the same fault sequence.
 */

/** 2^32, the divisor that maps a uint32 to [0, 1). */
const TWO_32 = 4294967296;

/**
 * Mulberry32: a tiny, fast, seedable PRNG with a 2^32 period.
 * Returns a function producing floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_32;
  };
}

/** Murmur3's 32-bit finaliser: a good avalanche on one 32-bit word. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Stateless hash of up to four integers (negative values allowed) to a uint32.
 * Used for per-(movie, day) and per-(movie, version) decisions without keeping state.
 */
export function hash4(a: number, b: number, c = 0, d = 0): number {
  let h = mix32((a ^ 0x9e3779b9) >>> 0);
  h = mix32((h ^ Math.imul(b | 0, 0x27d4eb2d)) >>> 0);
  h = mix32((h + Math.imul(c | 0, 0x165667b1)) >>> 0);
  h = mix32((h ^ Math.imul(d | 0, 0x61c88647)) >>> 0);
  return h;
}

/** `hash4` mapped to a float in [0, 1). */
export function unit4(a: number, b: number, c = 0, d = 0): number {
  return hash4(a, b, c, d) / TWO_32;
}

/** Convenience wrapper over a mulberry32 stream with the helpers the generators need. */
export class Rng {
  #a: number;

  /** Creates a stream seeded with a uint32 (derive it with `hash4`). */
  constructor(seed: number) {
    this.#a = seed >>> 0;
  }

  /** Float in [0, 1) (the same sequence as `mulberry32(seed)`). */
  next(): number {
    const a = (this.#a + 0x6d2b79f5) >>> 0;
    this.#a = a;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_32;
  }

  /** Skips `n` draws in O(1) (mulberry32's state only ever adds a constant). */
  skip(n: number): void {
    this.#a = (this.#a + Math.imul(n, 0x6d2b79f5)) >>> 0;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Standard normal variate (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A string of `length` characters drawn from `alphabet` (BMP characters). */
  chars(alphabet: string, length: number): string {
    const codes = new Array<number>(length);
    for (let i = 0; i < length; i++) {
      codes[i] = alphabet.charCodeAt(Math.floor(this.next() * alphabet.length));
    }
    return String.fromCharCode(...codes);
  }
}
