import type { ConnectionState, CorrelationMode } from '../../../state/types.js';

/** What /health reports about the upstream link. */
export interface UpstreamHealth {
  /** 'connected', 'reconnecting', 'closed' (or 'connecting' before the first link). */
  state: ConnectionState;
  /** The correlation mode in use. */
  mode: CorrelationMode;
  /** When the link entered this state (ISO 8601). */
  since: string;
}

/** The /health body. */
export interface GatewayHealth {
  /** 'ok' while the instrument link is up, else 'degraded' (served with HTTP 503). */
  status: 'ok' | 'degraded';
  upstream: UpstreamHealth;
  /** Downstream clients connected now. */
  sessions: number;
  /** The session holding the gateway's exclusive lease, or null. */
  leaseHolder: { id: number; description: string } | null;
  /** Sessions waiting for the lease. */
  leaseWaiting: number;
  /** When the last packet came from the instrument (ISO 8601), or null. */
  lastPacketAt: string | null;
  /** Seconds since the gateway started. */
  uptimeSeconds: number;
}

/** The facts /health is built from; every one is a field read, so it answers at once. */
export interface HealthFacts {
  state: ConnectionState;
  mode: CorrelationMode;
  sinceMs: number;
  sessions: number;
  leaseHolder: { id: number; description: string } | null;
  leaseWaiting: number;
  lastPacketAtMs: number | null;
  startedAtMs: number;
}

/** The /health body from the gateway's facts (nothing waits on the instrument). */
export function buildHealth(facts: HealthFacts, nowMs = Date.now()): GatewayHealth {
  return {
    status: facts.state === 'connected' ? 'ok' : 'degraded',
    upstream: { state: facts.state, mode: facts.mode, since: new Date(facts.sinceMs).toISOString() },
    sessions: facts.sessions,
    leaseHolder: facts.leaseHolder,
    leaseWaiting: facts.leaseWaiting,
    lastPacketAt: facts.lastPacketAtMs === null ? null : new Date(facts.lastPacketAtMs).toISOString(),
    uptimeSeconds: Math.max(0, Math.round((nowMs - facts.startedAtMs) / 1000)),
  };
}
