import { describe, expect, it } from 'vitest';
import { buildHealth } from '../../src/apps/gateway/http/health.js';

describe('buildHealth', () => {
  const facts = {
    state: 'connected' as const,
    mode: 'lease' as const,
    sinceMs: Date.UTC(2026, 0, 2, 3, 4, 5),
    sessions: 2,
    leaseHolder: { id: 3, description: '127.0.0.1:5000' },
    leaseWaiting: 1,
    lastPacketAtMs: Date.UTC(2026, 0, 2, 3, 4, 6),
    startedAtMs: Date.UTC(2026, 0, 2, 3, 0, 0),
  };

  it('reports a connected link as ok with ISO times', () => {
    expect(buildHealth(facts, Date.UTC(2026, 0, 2, 3, 5, 0))).toEqual({
      status: 'ok',
      upstream: { state: 'connected', mode: 'lease', since: '2026-01-02T03:04:05.000Z' },
      sessions: 2,
      leaseHolder: { id: 3, description: '127.0.0.1:5000' },
      leaseWaiting: 1,
      lastPacketAt: '2026-01-02T03:04:06.000Z',
      uptimeSeconds: 300,
    });
  });

  it('reports any other link state as degraded and a silent link with lastPacketAt null', () => {
    const h = buildHealth({ ...facts, state: 'reconnecting', lastPacketAtMs: null, leaseHolder: null });
    expect(h.status).toBe('degraded');
    expect(h.upstream.state).toBe('reconnecting');
    expect(h.lastPacketAt).toBeNull();
    expect(h.leaseHolder).toBeNull();
  });
});
