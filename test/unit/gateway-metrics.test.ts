import { describe, expect, it } from 'vitest';
import { Command } from '../../protocol/commands.js';
import { GatewayMetrics } from '../../src/apps/gateway/http/metrics.js';

function source(values: { sessions?: number; slow?: number; reconnects?: number; losses?: number } = {}) {
  return {
    sessionCount: () => values.sessions ?? 0,
    slowReadersCutOff: () => values.slow ?? 0,
    upstreamReconnects: () => values.reconnects ?? 0,
    upstreamLosses: () => values.losses ?? 0,
  };
}

describe('GatewayMetrics', () => {
  it('renders per-command series by name, and totals read at scrape time', async () => {
    const totals = { sessions: 2, slow: 1, reconnects: 3, losses: 4 };
    const metrics = new GatewayMetrics(source(totals));
    metrics.observer.sent(Command.STAGE_POSITION_GET);
    metrics.observer.roundTrip(Command.STAGE_POSITION_GET, 4);
    metrics.observer.turnWait(20);
    metrics.event(Command.STAGE_MOTION_STOPPED);
    metrics.event(Command.STAGE_MOTION_STOPPED);
    const { body, contentType } = await metrics.render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('flamingo_upstream_requests_total{command="STAGE_POSITION_GET"} 1');
    expect(body).toContain('flamingo_upstream_round_trip_seconds_bucket{le="0.005",command="STAGE_POSITION_GET"} 1');
    expect(body).toContain('flamingo_upstream_round_trip_seconds_bucket{le="0.0025",command="STAGE_POSITION_GET"} 0');
    expect(body).toContain('flamingo_upstream_turn_wait_seconds_bucket{le="0.025"} 1');
    expect(body).toContain('flamingo_events_total{command="STAGE_MOTION_STOPPED"} 2');
    expect(body).toContain('flamingo_gateway_sessions 2');
    expect(body).toContain('flamingo_gateway_slow_readers_cut_off_total 1');
    expect(body).toContain('flamingo_upstream_reconnects_total 3');
    expect(body).toContain('flamingo_upstream_losses_total 4');
    totals.slow = 5;
    expect((await metrics.render()).body).toContain('flamingo_gateway_slow_readers_cut_off_total 5');
  });

  it('keeps at most 128 label values per metric; further codes share OTHER', async () => {
    const metrics = new GatewayMetrics(source());
    for (let code = 0x9000; code < 0x9000 + 200; code++) metrics.event(code);
    const lines = (await metrics.render()).body.split('\n').filter((l) => l.startsWith('flamingo_events_total{'));
    expect(lines).toHaveLength(129);
    expect(lines).toContain('flamingo_events_total{command="0x9000"} 1');
    expect(lines).toContain('flamingo_events_total{command="OTHER"} 72');
  });
});
