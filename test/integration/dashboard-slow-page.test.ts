import { connect as connectTcpSocket } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GatewayMetrics } from '../../src/apps/gateway/http/metrics.js';
import { GatewayHttpServer, type HttpSource } from '../../src/apps/gateway/http/server.js';
import { buildHealth } from '../../src/apps/gateway/http/health.js';

/** A source whose every view is ~64 KiB, so a page that stops reading fills the kernel's buffers quickly. */
function bigSource(slow: { count: number }): HttpSource {
  const padding = 'x'.repeat(64 * 1024);
  let version = 0;
  return {
    health: () =>
      buildHealth({ state: 'connected', mode: 'lease', sinceMs: 0, sessions: 0, leaseHolder: null, leaseWaiting: 0, lastPacketAtMs: null, startedAtMs: 0 }),
    dashboardView: () => ({ snapshot: { version: ++version, padding }, health: null, frame: null }),
    latestFramePng: () => null,
    metrics: new GatewayMetrics({ sessionCount: () => 0, slowReadersCutOff: () => slow.count, upstreamReconnects: () => 0, upstreamLosses: () => 0 }),
  };
}

describe('dashboard socket that stops reading', () => {
  it('is cut off once its queue passes the limit, while a page that reads keeps its updates', async () => {
    const slow = { count: 0 };
    let cutOff!: () => void;
    const wasCut = new Promise<void>((resolve) => (cutOff = resolve));
    const http = await GatewayHttpServer.listen(bigSource(slow), {
      host: '127.0.0.1',
      port: 0,
      updateIntervalMs: 1,
      maxBufferedBytes: 256 * 1024,
      onSlowReader: () => {
        slow.count++;
        cutOff();
      },
    });
    // The stuck page: a raw TCP client that sends the upgrade and never reads again.
    const stuck = connectTcpSocket({ host: '127.0.0.1', port: http.address.port });
    stuck.pause();
    const stuckClosed = new Promise<void>((resolve) => stuck.once('close', () => resolve()));
    stuck.write(
      'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    // A page that reads.
    const reader = new WebSocket(`ws://127.0.0.1:${http.address.port}/ws`);
    let received = 0;
    reader.on('message', () => received++);
    await new Promise<void>((resolve) => reader.once('open', () => resolve()));
    const pump = setInterval(() => http.feed.changed(), 1);
    try {
      await wasCut;
      expect(slow.count).toBe(1);
      expect(http.feed.size).toBe(1);
      // The reading page still gets updates after the cut-off.
      const before = received;
      await new Promise<void>((resolve) => {
        const onMessage = (): void => {
          if (received <= before + 3) return;
          reader.off('message', onMessage);
          resolve();
        };
        reader.on('message', onMessage);
      });
      const text = (await bigSource(slow).metrics.render()).body;
      expect(text).toContain('flamingo_gateway_slow_readers_cut_off_total 1');
    } finally {
      clearInterval(pump);
      reader.terminate();
      stuck.destroy();
      await stuckClosed;
      await http.close();
    }
  });
});
