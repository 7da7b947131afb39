import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ArgumentError, Command, FlamingoGateway, withGatewayLease, type GatewayHealth } from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { makeTestPki } from '../support/certificates.js';
import { nextGatewayEvent, stacksCleanedUpAfterEach } from '../support/gateway-harness.js';

const startStack = stacksCleanedUpAfterEach();

function base(gateway: FlamingoGateway): string {
  return `http://127.0.0.1:${gateway.address.httpPort as number}`;
}

/** A raw HTTP exchange (fetch forbids some methods and hides nothing we need here). */
function exchange(
  url: string,
  method: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Prometheus text → `name{labels}` → value (comments skipped; label order as written). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a Prometheus sample line: ${line}`);
    out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

describe('gateway HTTP side', () => {
  it('/health reports the upstream link, sessions, lease holder and last packet time', async () => {
    const stack = await startStack({ gateway: { http: { port: 0 } } });
    const app = await stack.client();
    await app.request(Command.SYSTEM_STATE_GET);
    const res = await exchange(`${base(stack.gateway)}/health`, 'GET');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const health = JSON.parse(res.body) as GatewayHealth;
    expect(health.status).toBe('ok');
    expect(health.upstream.state).toBe('connected');
    expect(health.upstream.mode).toBe(stack.gateway.mode);
    expect(Date.parse(health.upstream.since)).toBeLessThanOrEqual(Date.now());
    expect(health.sessions).toBe(1);
    expect(health.leaseHolder).toBeNull();
    expect(health.lastPacketAt).not.toBeNull();
  });

  it('/health names the lease holder and turns degraded (503) while the instrument is away', async () => {
    const stack = await startStack({ gateway: { http: { port: 0 } } });
    const app = await stack.client();
    await withGatewayLease(app, async () => {
      const health = JSON.parse((await exchange(`${base(stack.gateway)}/health`, 'GET')).body) as GatewayHealth;
      expect(health.leaseHolder?.id).toBe(stack.gateway.sessions[0]?.id);
    });
    const down = nextGatewayEvent(stack.gateway, 'upstreamDown');
    await stack.sim.close();
    await down;
    const res = await exchange(`${base(stack.gateway)}/health`, 'GET');
    expect(res.status).toBe(503);
    const health = JSON.parse(res.body) as GatewayHealth;
    expect(health.status).toBe('degraded');
    expect(health.upstream.state).toBe('reconnecting');
  });

  it('/metrics: per-command counters and round-trip histograms, turn wait, sessions, events per code', async () => {
    const stack = await startStack({ gateway: { http: { port: 0 } } });
    const app = await stack.client();
    await app.request(Command.STAGE_POSITION_GET, { int32Data0: 1 });
    await app.request(Command.STAGE_POSITION_GET, { int32Data0: 2 });
    const stopped = app.waitFor('STAGE_MOTION_STOPPED');
    await app.stage.moveTo(1, 1.25);
    await stopped;
    const res = await exchange(`${base(stack.gateway)}/metrics`, 'GET');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parseMetrics(res.body);
    expect(m.get('flamingo_upstream_requests_total{command="STAGE_POSITION_GET"}')).toBeGreaterThanOrEqual(2);
    expect(m.get('flamingo_upstream_round_trip_seconds_count{command="STAGE_POSITION_GET"}')).toBeGreaterThanOrEqual(2);
    expect(m.get('flamingo_upstream_round_trip_seconds_bucket{le="+Inf",command="STAGE_POSITION_GET"}')).toBe(
      m.get('flamingo_upstream_round_trip_seconds_count{command="STAGE_POSITION_GET"}'),
    );
    expect(m.get('flamingo_upstream_turn_wait_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(m.get('flamingo_gateway_sessions')).toBe(1);
    expect(m.get('flamingo_events_total{command="STAGE_MOTION_STOPPED"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('flamingo_gateway_slow_readers_cut_off_total')).toBe(0);
    expect(m.get('flamingo_upstream_reconnects_total')).toBe(0);
  });

  it('unknown paths get 404, anything but GET 405, /ws without an upgrade 426', async () => {
    const stack = await startStack({ gateway: { http: { port: 0 } } });
    const url = base(stack.gateway);
    expect((await exchange(`${url}/nope`, 'GET')).status).toBe(404);
    expect((await exchange(`${url}/health/extra`, 'GET')).status).toBe(404);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'HEAD']) {
      const res = await exchange(`${url}/health`, method);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET');
    }
    expect((await exchange(`${url}/metrics`, 'POST')).status).toBe(405);
    expect((await exchange(`${url}/`, 'DELETE')).status).toBe(405);
    expect((await exchange(`${url}/ws`, 'GET')).status).toBe(426);
    const page = await exchange(`${url}/`, 'GET');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script src="/dashboard.js"></script>');
    expect((await exchange(`${url}/dashboard.js`, 'GET')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await exchange(`${url}/frame.png`, 'GET')).status).toBe(404);
  });

  it('with a token, every request and the WebSocket must carry it', async () => {
    const stack = await startStack({ gateway: { token: 's3cret', http: { port: 0 } } });
    const url = base(stack.gateway);
    expect((await exchange(`${url}/health`, 'GET')).status).toBe(401);
    expect((await exchange(`${url}/health?token=wrong`, 'GET')).status).toBe(401);
    expect((await exchange(`${url}/health`, 'GET', { authorization: 'Bearer s3cret' })).status).toBe(200);
    expect((await exchange(`${url}/metrics?token=s3cret`, 'GET')).status).toBe(200);
    const refused = new WebSocket(`ws://127.0.0.1:${stack.gateway.address.httpPort as number}/ws`);
    refused.on('error', () => undefined);
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    refused.terminate();
    expect(status).toBe(401);
  });

  it('with the gateway on TLS, serves HTTPS with its certificate (and nothing in plain text)', async () => {
    const pki = await makeTestPki();
    const stack = await startStack({ gateway: { token: 's3cret', tls: { cert: pki.server.cert, key: pki.server.key }, http: { port: 0 } } });
    const port = stack.gateway.address.httpPort as number;
    const health = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/health', ca: pki.ca, headers: { authorization: 'Bearer s3cret' }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(health.status).toBe(200);
    expect((JSON.parse(health.body) as GatewayHealth).status).toBe('ok');
    await expect(exchange(`http://127.0.0.1:${port}/health`, 'GET', { authorization: 'Bearer s3cret' })).rejects.toThrow();
  });

  it('refuses HTTP off loopback without a token', async () => {
    const sim = new SimulatedMicroscope();
    const { port } = await sim.listen({ port: 0 });
    try {
      await expect(FlamingoGateway.start({ upstreamPort: port, port: 0, livePort: false, http: { host: '0.0.0.0', port: 0 } })).rejects.toBeInstanceOf(
        ArgumentError,
      );
    } finally {
      await sim.close();
    }
  });

  it('the dashboard socket gets the whole view at once, then live updates', async () => {
    const stack = await startStack({ gateway: { http: { port: 0, updateIntervalMs: 10 } } });
    const ws = new WebSocket(`ws://127.0.0.1:${stack.gateway.address.httpPort as number}/ws`);
    const messages: { snapshot: { stage: { x: { position?: number } } }; health: GatewayHealth; events: { name: string }[] }[] = [];
    let wake: (() => void) | null = null;
    ws.on('message', (data: Buffer) => {
      messages.push(JSON.parse(data.toString('utf8')) as (typeof messages)[number]);
      wake?.();
    });
    const next = (pred: (m: (typeof messages)[number]) => boolean) =>
      new Promise<(typeof messages)[number]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching dashboard update')), 5000);
        wake = () => {
          const hit = messages.find(pred);
          if (hit !== undefined) {
            clearTimeout(timer);
            wake = null;
            resolve(hit);
          }
        };
        wake();
      });
    try {
      const first = await next(() => true);
      expect(first.health.upstream.state).toBe('connected');
      const app = await stack.client();
      await app.stage.moveTo(1, 2.5);
      const moved = await next((m) => m.snapshot.stage.x.position === 2.5 && m.events.some((e) => e.name === 'STAGE_MOTION_STOPPED'));
      expect(moved.health.sessions).toBe(1);
    } finally {
      ws.terminate();
    }
  });

  it('/health answers while a workflow upload is in progress', async () => {
    const stack = await startStack({ sim: { maxPayloadBytes: 64 * 1024 * 1024 }, gateway: { http: { port: 0 }, maxPayloadBytes: 64 * 1024 * 1024 } });
    const app = await stack.client({ requestTimeoutMs: 60_000 });
    const payload = new Uint8Array(16 * 1024 * 1024).fill(0x41);
    const order: string[] = [];
    let health: Promise<number> | null = null;
    // CAMERA_WORKFLOW_START is never answered (spec/commands.json): it is sent, and the reply
    // to the request behind it shows the gateway has passed the whole payload on.
    const upload = app.send(Command.CAMERA_WORKFLOW_START, undefined, {
      payload,
      onUploadProgress: (p) => {
        if (health === null && p.sent >= payload.length / 8) {
          health = exchange(`${base(stack.gateway)}/health`, 'GET').then((res) => {
            order.push('health');
            return res.status;
          });
        }
      },
    });
    const behind = app.request(Command.SYSTEM_STATE_GET);
    await upload;
    await behind.then(() => order.push('upload passed on'));
    expect(health).not.toBeNull();
    expect(await (health as unknown as Promise<number>)).toBe(200);
    // Asked an eighth of the way in, answered before the instrument had the whole payload.
    expect(order).toEqual(['health', 'upload passed on']);
  });
});
