/**
 * Small seeded PRNG (mulberry32): fault injection and fragmentation must replay exactly
 * from a seed, which Math.random cannot do.
 */
export class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }
  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (this.next() * 256) | 0;
    return out;
  }
}

/** Cut `bytes` into pieces of 1..maxChunk bytes (views, not copies). */
export function fragment(bytes: Uint8Array, maxChunk: number, random: SeededRandom): Uint8Array[] {
  if (maxChunk <= 0 || bytes.length <= 1) return [bytes];
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const n = Math.min(random.int(1, maxChunk), bytes.length - pos);
    out.push(bytes.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}
