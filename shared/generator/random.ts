/**
 * Seeded pseudo-random numbers for the market generator. Math.random cannot be
 * seeded, and byte-identical output for the same --seed is a requirement, so
 * every random draw in the generator goes through an Rng made here.
 *
 * sfc32 (Chris Doty-Humphrey's "small fast chaotic" generator, PractRand-clean)
 * keeps four 32-bit words of state and runs on int32 arithmetic, which V8
 * compiles to a handful of machine instructions; its state is filled by
 * splitmix32 so that nearby seeds (1, 2, 3…) give unrelated streams.
 */

const TWO_POW_32 = 4294967296;

/** splitmix32 finaliser: a bijective avalanche on 32 bits. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal = 0;
  private hasSpare = false;

  /**
   * @param seed any safe integer; both halves of a 53-bit seed reach the state.
   * @param stream independent sub-stream number, so each symbol (and the market,
   *   the arrivals, the typed records) draws from its own sequence and adding a
   *   symbol does not change the paths of the others.
   */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Rng seed must be a safe integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const s = mix32(lo ^ mix32(hi ^ mix32(stream >>> 0)));
    this.a = mix32(s);
    this.b = mix32(this.a);
    this.c = mix32(this.b);
    this.d = mix32(this.c);
    // sfc32's authors discard the first outputs so the state is well mixed.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform on the open interval (0, 1): never 0, so log(u) is always finite. */
  uniform(): number {
    return (this.nextUint32() + 0.5) / TWO_POW_32;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal, Marsaglia's polar method (two normals per accepted pair). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spareNormal;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    this.hasSpare = true;
    return u * f;
  }

  /** Exponential with rate 1. */
  exponential(): number {
    return -Math.log(this.uniform());
  }

  /**
   * Poisson count with a small mean (jump counts per step are far below 1);
   * Knuth's product method is exact and cheap there.
   */
  poissonSmall(mean: number): number {
    if (mean <= 0) return 0;
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.uniform();
    while (p > limit) {
      k++;
      p *= this.uniform();
    }
    return k;
  }
}

/** Deterministic 32-bit hash of a string (FNV-1a then mixed), for per-symbol parameters. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}
