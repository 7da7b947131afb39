import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTOGRAM_BUCKETS, LatencyHistogram } from '../../src/client/histogram.js';

describe('LatencyHistogram', () => {
  it('summarises nothing as zeros', () => {
    expect(new LatencyHistogram().summary()).toEqual({ count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  });

  it('gives quantiles within 1/16 above the true value and never past the exact max', () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) h.record(ms);
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.mean).toBe(500.5);
    expect(s.max).toBe(1000);
    expect(s.p50).toBeGreaterThanOrEqual(500);
    expect(s.p50).toBeLessThanOrEqual(500 * (1 + 1 / 16));
    expect(s.p95).toBeGreaterThanOrEqual(950);
    expect(s.p95).toBeLessThanOrEqual(950 * (1 + 1 / 16));
    expect(s.p99).toBeGreaterThanOrEqual(990);
    expect(s.p99).toBeLessThanOrEqual(1000);
  });

  it('keeps sub-millisecond values apart at 1/16 ms', () => {
    const h = new LatencyHistogram();
    h.record(0.1);
    h.record(0.1);
    h.record(0.9);
    expect(h.quantile(0.5)).toBe(0.125);
    expect(h.quantile(1)).toBe(0.9);
  });

  it('counts negative, NaN and infinite values as 0 and clamps huge ones into the last bucket', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(Number.NaN);
    h.record(Number.POSITIVE_INFINITY);
    h.record(1e12);
    const s = h.summary();
    expect(s.count).toBe(4);
    expect(s.max).toBe(1e12);
    expect(s.p50).toBe(0.0625);
    expect(s.p99).toBe(1e12);
  });

  it('resets in place', () => {
    const h = new LatencyHistogram();
    h.record(12);
    h.reset();
    expect(h.summary()).toEqual({ count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 });
    h.record(3);
    expect(h.summary().p50).toBeGreaterThanOrEqual(3);
    expect(h.summary().count).toBe(1);
  });

  it('has a fixed bucket count', () => {
    expect(HISTOGRAM_BUCKETS).toBe(464);
  });

  it('property: every quantile is at or above the true order statistic, within 1/16 + 1/16 ms, and at most the max', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (values, q) => {
          const h = new LatencyHistogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const truth = sorted[Math.max(1, Math.ceil(q * values.length)) - 1] as number;
          const got = h.quantile(q);
          const max = sorted[sorted.length - 1] as number;
          expect(got).toBeLessThanOrEqual(max);
          expect(got).toBeGreaterThanOrEqual(Math.min(truth, max) - 1e-9 - (truth < 0.0625 ? truth : 0));
          expect(got).toBeLessThanOrEqual(truth * (1 + 1 / 16) + 1 / 16 + 1e-9);
        },
      ),
    );
  });
});
