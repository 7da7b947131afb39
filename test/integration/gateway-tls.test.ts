import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Command, connectGateway, FlamingoClient, openLiveStream, plaintextWarning } from '../../src/index.js';
import { makeTestPki, type TestPki } from '../support/certificates.js';
import { startStack, type Stack } from '../support/gateway-harness.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki();
});

const stacks: Stack[] = [];
const clients: FlamingoClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of stacks.splice(0)) await s.cleanup();
});

async function tlsStack(requireClientCert: boolean): Promise<Stack> {
  const stack = await startStack({
    sim: { echoSequence: true },
    gateway: { tls: { cert: pki.server.cert, key: pki.server.key, ...(requireClientCert ? { ca: pki.ca } : {}) }, token: 'secret' },
  });
  stacks.push(stack);
  return stack;
}

describe('gateway over TLS', () => {
  it('serves a client that trusts its CA; the token and the traffic go inside TLS', async () => {
    const stack = await tlsStack(false);
    const port = stack.gateway.address.port;
    const client = await FlamingoClient.connect({ mode: 'lease', transport: () => connectGateway({ port, token: 'secret', tls: { ca: pki.ca } }) });
    clients.push(client);
    const reply = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 });
    expect([reply.code, reply.status, reply.int32Data0]).toEqual([Command.STAGE_POSITION_GET, 1, 1]);
    expect(stack.gateway.warnings).toEqual([]);
  });

  it('a client that does not trust the certificate, or speaks plain TCP, gets nowhere', async () => {
    const stack = await tlsStack(false);
    const port = stack.gateway.address.port;
    await expect(connectGateway({ port, token: 'secret', tls: { ca: pki.otherCa } })).rejects.toMatchObject({
      name: 'ConnectError',
      message: expect.stringMatching(/TLS: .*(self.signed|unable to verify|issuer)/i),
    });
    const plain = FlamingoClient.connect({ mode: 'lease', requestTimeoutMs: 500, transport: () => connectGateway({ port, token: 'secret' }) });
    // The gateway closes a plain-TCP connection (a timeout would mean it kept it open).
    await expect(
      plain.then((c) => {
        clients.push(c);
        return c.request(Command.SYSTEM_STATE_GET);
      }),
    ).rejects.toMatchObject({ name: 'ConnectionClosedError' });
    expect(stack.gateway.stats.requests).toBe(0);
  });

  it('with a CA, requires a client certificate signed by it', async () => {
    const stack = await tlsStack(true);
    const port = stack.gateway.address.port;
    const good = await FlamingoClient.connect({
      mode: 'lease',
      transport: () => connectGateway({ port, token: 'secret', tls: { ca: pki.ca, ...pki.client } }),
    });
    clients.push(good);
    expect((await good.request(Command.SYSTEM_STATE_GET)).code).toBe(Command.SYSTEM_STATE_GET);
    // TLS 1.3 reports a refused client certificate after the handshake: the connection
    // then closes, so a request cannot get through either way.
    for (const tls of [{ ca: pki.ca }, { ca: pki.ca, ...pki.other }]) {
      const attempt = FlamingoClient.connect({ mode: 'lease', requestTimeoutMs: 2000, transport: () => connectGateway({ port, token: 'secret', tls }) });
      await expect(
        attempt.then((c) => {
          clients.push(c);
          return c.request(Command.SYSTEM_STATE_GET);
        }),
      ).rejects.toMatchObject({ name: expect.stringMatching(/^(ConnectError|ConnectionClosedError)$/) });
    }
    expect(stack.gateway.stats.open).toBe(1);
  });

  it('openLiveStream({ tls }) reads frames from the TLS live port; an untrusted certificate is a ConnectError (issue 16)', async () => {
    const stack = await startStack({ sim: { liveFrameWidth: 16, liveFrameHeight: 8 }, gateway: { tls: { cert: pki.server.cert, key: pki.server.key } } });
    stacks.push(stack);
    const livePort = stack.gateway.address.livePort as number;
    await expect(openLiveStream({ port: livePort, tls: { ca: pki.otherCa } })).rejects.toMatchObject({
      name: 'ConnectError',
      message: expect.stringMatching(/TLS: /),
    });
    const aborted = new AbortController();
    aborted.abort();
    await expect(openLiveStream({ port: livePort, tls: { ca: pki.ca }, signal: aborted.signal })).rejects.toMatchObject({
      name: 'ConnectError',
      code: 'ABORTED',
    });
    const stream = await openLiveStream({ port: livePort, tls: { ca: pki.ca } });
    try {
      expect(stream.description).toBe(`127.0.0.1:${livePort} (TLS)`);
      const app = await FlamingoClient.connect({ mode: 'lease', transport: () => connectGateway({ port: stack.gateway.address.port, tls: { ca: pki.ca } }) });
      clients.push(app);
      await app.send(Command.CAMERA_LIVE_VIEW_START);
      const frame = await stream.nextFrame(10_000);
      expect([frame.header.width, frame.header.height, frame.pixels.length]).toEqual([16, 8, 16 * 8 * 2]);
    } finally {
      await stream.close();
    }
  });

  it('warns that a non-loopback listen without TLS exposes the token', () => {
    expect(plaintextWarning('0.0.0.0', false)).toBe(
      'listening on 0.0.0.0 without TLS: the access token and all traffic are readable on the network (use --tls-cert and --tls-key)',
    );
    expect(plaintextWarning('0.0.0.0', true)).toBeUndefined();
    expect(plaintextWarning('127.0.0.1', false)).toBeUndefined();
  });
});
