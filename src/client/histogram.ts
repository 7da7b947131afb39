/**
 * A fixed-size latency histogram with log-linear buckets, allocated once.
 *
 * Values (milliseconds) are kept to a relative precision of 1/{@link SUB_BUCKETS}: each power
 * of two from 2^-{@link FRACTION_BITS} ms up is split into SUB_BUCKETS equal buckets (the
 * scheme of HdrHistogram, in our own small form). Recording is a few arithmetic operations and
 * one array increment: no allocation, no sorting, no growth with the number of samples, so it
 * can sit on a request's path. Quantiles are read by walking the buckets (cost: the bucket
 * count, paid only by whoever asks).
 */

/** Linear buckets per power of two: relative error at most 1/16 (6.25 %). */
const SUB_BUCKET_BITS = 4;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
/** Resolution below 1 ms: values are recorded in units of 1/16 ms (62.5 µs). */
const FRACTION_BITS = 4;
const UNITS_PER_MS = 1 << FRACTION_BITS;
/** Powers of two covered: 1/16 ms up to 2^(MAGNITUDES - FRACTION_BITS) ms ≈ 2^28 ms ≈ 3 days. */
const MAGNITUDES = 32;
/** Total bucket count; every larger value lands in the last bucket (max is still exact). */
export const HISTOGRAM_BUCKETS = SUB_BUCKETS * (MAGNITUDES - SUB_BUCKET_BITS + 1);

/** A latency summary in milliseconds; quantiles are bucket upper bounds (never below the truth). */
export interface LatencySummary {
  count: number;
  /** Mean of the recorded values (exact). */
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  /** Largest recorded value (exact). */
  max: number;
}

/** The bucket a value in units falls into. */
function bucketOf(units: number): number {
  if (units < SUB_BUCKETS) return units;
  // floor(log2(units)) for units < 2^32; past that, clamp to the last bucket.
  if (units >= 2 ** 32) return HISTOGRAM_BUCKETS - 1;
  const magnitude = 31 - Math.clz32(units);
  const shift = magnitude - SUB_BUCKET_BITS;
  const index = SUB_BUCKETS * (shift + 1) + ((units >>> shift) - SUB_BUCKETS);
  return index < HISTOGRAM_BUCKETS ? index : HISTOGRAM_BUCKETS - 1;
}

/** The largest value in units that falls into `bucket`. */
function bucketUpperUnits(bucket: number): number {
  if (bucket < SUB_BUCKETS) return bucket;
  const shift = Math.floor(bucket / SUB_BUCKETS) - 1;
  const sub = bucket % SUB_BUCKETS;
  return (SUB_BUCKETS + sub + 1) * 2 ** shift - 1;
}

/** A resettable, preallocated latency histogram (milliseconds). */
export class LatencyHistogram {
  private readonly counts = new Float64Array(HISTOGRAM_BUCKETS);
  private total = 0;
  private sum = 0;
  private maxValue = 0;

  /** Samples recorded since the last reset. */
  get count(): number {
    return this.total;
  }

  /** Record one duration in milliseconds; negative or non-finite values count as 0. */
  record(ms: number): void {
    const value = ms > 0 && ms < Infinity ? ms : 0;
    const bucket = bucketOf(Math.floor(value * UNITS_PER_MS));
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.total++;
    this.sum += value;
    if (value > this.maxValue) this.maxValue = value;
  }

  /**
   * The value at quantile `q` (0..1): the upper bound of the bucket holding it, capped by
   * the exact maximum. 0 when nothing was recorded.
   */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen < rank) continue;
      // The last bucket also holds everything beyond the range: its bound is the max.
      if (i === HISTOGRAM_BUCKETS - 1) return this.maxValue;
      return Math.min((bucketUpperUnits(i) + 1) / UNITS_PER_MS, this.maxValue);
    }
    return this.maxValue;
  }

  /** Count, mean, p50/p95/p99 and max. */
  summary(): LatencySummary {
    return {
      count: this.total,
      mean: this.total === 0 ? 0 : this.sum / this.total,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: this.maxValue,
    };
  }

  /** Forget every sample (the buckets are reused, not reallocated). */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.maxValue = 0;
  }
}
