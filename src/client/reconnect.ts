/** Opt-in reconnect policy of a client. */
export interface ReconnectOptions {
  /** Delay before the first attempt (default 100 ms); doubles after each failure. Range: `1 … 2147483647 ms`. */
  initialDelayMs?: number;
  /** Ceiling of the delay (default 5000 ms), at least initialDelayMs. Range: `1 … 2147483647 ms`. */
  maxDelayMs?: number;
  /** Attempts per lost link before giving up and closing (default Infinity). Range: `integer 1 … 9007199254740991 or Infinity`. */
  maxAttempts?: number;
  /**
   * Requests made (or still waiting for their turn) while the link is down: `'queue'`
   * (default) keeps them, bounded by maxQueued and queueTimeoutMs, and writes them once
   * reconnected; `'fail'` rejects them at once with ConnectionClosedError.
   * Range: `'queue' | 'fail'`.
   */
  whileDown?: 'queue' | 'fail';
}

/** Reconnect options with every default applied. */
export type ReconnectPolicy = Required<ReconnectOptions>;

/** The defaults of {@link ReconnectOptions}. */
export const RECONNECT_DEFAULTS: Readonly<ReconnectPolicy> = { initialDelayMs: 100, maxDelayMs: 5000, maxAttempts: Infinity, whileDown: 'queue' };

/** Apply defaults; validates the numbers (RangeError). */
export function reconnectPolicy(options: ReconnectOptions): ReconnectPolicy {
  const policy: ReconnectPolicy = {
    initialDelayMs: options.initialDelayMs ?? RECONNECT_DEFAULTS.initialDelayMs,
    maxDelayMs: options.maxDelayMs ?? RECONNECT_DEFAULTS.maxDelayMs,
    maxAttempts: options.maxAttempts ?? RECONNECT_DEFAULTS.maxAttempts,
    whileDown: options.whileDown ?? RECONNECT_DEFAULTS.whileDown,
  };
  if (!(policy.initialDelayMs >= 0) || !(policy.maxDelayMs >= policy.initialDelayMs)) {
    throw new RangeError('reconnect delays must satisfy 0 <= initialDelayMs <= maxDelayMs');
  }
  if (!(policy.maxAttempts >= 1)) throw new RangeError('reconnect.maxAttempts must be at least 1');
  if (policy.whileDown !== 'queue' && policy.whileDown !== 'fail') throw new RangeError("reconnect.whileDown is 'queue' or 'fail'");
  return policy;
}

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential, capped, with "equal
 * jitter" (half fixed, half random) so that many clients dropped together by one server
 * restart do not all come back in the same millisecond.
 */
export function backoffDelay(policy: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
