import { encodePacket } from '../../../protocol/codec.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import { Flags } from '../../../protocol/flags.js';
import { connectTcp } from '../../../transports/tcp.js';
import type { TcpTransport } from '../../../transports/tcp.js';
import { writeAndWaitForRoom } from '../../../transports/transport.js';
import type { FlamingoClient } from '../../client/client.js';
import { ArgumentError, ProtocolError, TimeoutError } from '../../errors.js';
import { connectTls, type ClientTlsOptions } from './tls.js';

/**
 * Command codes of the gateway extension (spec/protocol.md, "Gateway access token").
 * 0xF0xx is outside every subsystem byte the instrument uses, so the gateway can claim
 * these codes without shadowing a real command; it answers them itself and never
 * forwards them to the instrument.
 */
export const GatewayCommand = {
  /** First packet of a connection: the access token as UTF-8 text in the data field. */
  GATEWAY_HELLO: 0xf000,
  /** Take the exclusive lease across all of the gateway's clients; answered once held. */
  LEASE_ACQUIRE: 0xf001,
  /** Give the lease back (or stop waiting for it); always answered with status 1. */
  LEASE_RELEASE: 0xf002,
} as const;

/**
 * The GATEWAY_HELLO packet carrying `token` (at most 72 UTF-8 bytes). With `callback`, the
 * gateway answers it: status 1 accepted, status 0 refused (and the connection is closed).
 */
export function encodeGatewayHello(token: string, options: { callback?: boolean } = {}): Uint8Array {
  return encodePacket({
    code: GatewayCommand.GATEWAY_HELLO,
    cmdDataBits0: options.callback === true ? Flags.TRIGGER_CALL_BACK : 0,
    data: token,
  });
}

/** Options of {@link connectGateway}. */
export interface ConnectGatewayOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** The gateway's port (its command port, read-only port, or live port). */
  port: number;
  /** The gateway's access token; when given, GATEWAY_HELLO is written before anything else. */
  token?: string;
  /** Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Connect with TLS (a gateway started with `tls`): the CA to trust, and a client certificate when required. */
  tls?: ClientTlsOptions;
  /** Abort the connect attempt (a ConnectError with code `ABORTED`), e.g. on Ctrl-C. */
  signal?: AbortSignal;
}

/**
 * Connect to a gateway and introduce the connection with its token, ready to hand to
 * `FlamingoClient.connect({ transport: () => connectGateway({...}) })` (a factory, so the
 * client can reconnect) or to a `LiveStream`. The hello is sent without the callback flag:
 * a wrong token shows up as the connection being closed.
 */
export async function connectGateway(options: ConnectGatewayOptions): Promise<TcpTransport> {
  const host = options.host ?? '127.0.0.1';
  const transport =
    options.tls !== undefined
      ? await connectTls(host, options.port, options.tls, options.connectTimeoutMs, options.signal)
      : await connectTcp({
          host,
          port: options.port,
          ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
          ...(options.signal !== undefined ? { signal: options.signal } : {}),
        });
  if (options.token !== undefined) {
    try {
      await writeAndWaitForRoom(transport, encodeGatewayHello(options.token));
    } catch (error) {
      transport.destroy();
      throw error;
    }
  }
  return transport;
}

/** Default of `withGatewayLease`'s `timeoutMs`: how long to wait for the lease. */
const DEFAULT_LEASE_WAIT_MS = 30_000;

/**
 * Extra time the acquire's own reply timeout allows past `timeoutMs`: the gateway answers a
 * withdrawn acquire at once, so only a gateway that stopped answering uses it.
 */
const WITHDRAW_GRACE_MS = 10_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Run `fn` while holding the gateway's exclusive lease (LEASE_ACQUIRE, then LEASE_RELEASE
 * however `fn` ends): other clients of the same gateway wait until it is released.
 * Rejects with TimeoutError when the lease is not granted within `timeoutMs` (default 30 s),
 * and with ProtocolError when the gateway refuses it (read-only connection, or the
 * instrument is gone).
 *
 * The wait is ended by withdrawing the acquire (a LEASE_RELEASE written at once, which the
 * gateway answers by refusing the acquire), not by the acquire's reply timeout: in lease
 * mode a timed-out request is fenced, and the fences would queue behind the acquire the
 * gateway still holds, until the client gave the connection up (issue 18).
 */
export async function withGatewayLease<T>(client: FlamingoClient, fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
  const waitMs = options.timeoutMs ?? DEFAULT_LEASE_WAIT_MS;
  if (!Number.isInteger(waitMs) || waitMs < 1 || waitMs > MAX_TIMER_MS) {
    throw new ArgumentError(`timeoutMs must be an integer from 1 to ${MAX_TIMER_MS} ms, got ${waitMs}`, 'LEASE_ACQUIRE');
  }
  let withdrawn = false;
  const timer = setTimeout(() => {
    withdrawn = true;
    // Fire-and-forget: written now, ahead of anything queued behind the acquire. Without the
    // callback flag the gateway answers nothing for it (spec/protocol.md, gateway extension).
    client.send(GatewayCommand.LEASE_RELEASE).catch(() => undefined);
  }, waitMs);
  let granted: boolean;
  try {
    const reply = await client.request(GatewayCommand.LEASE_ACQUIRE, undefined, { timeoutMs: Math.min(MAX_TIMER_MS, waitMs + WITHDRAW_GRACE_MS) });
    granted = reply.status === STATUS_OK;
    if (!granted && !withdrawn) throw new ProtocolError(`LEASE_ACQUIRE failed with status ${reply.status}`, reply);
  } catch (error) {
    if (!withdrawn && !(error instanceof ProtocolError)) {
      // The acquire failed some other way (link lost, no answer): withdraw it, so that it
      // cannot hold the other clients back if it is still waiting.
      await client.request(GatewayCommand.LEASE_RELEASE).catch(() => undefined);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (withdrawn) {
    // Granted just as the withdrawal went out: that LEASE_RELEASE gives it back (the gateway
    // runs a release of a held lease in this connection's order, after the acquire).
    throw new TimeoutError('LEASE_ACQUIRE', waitMs);
  }
  try {
    return await fn();
  } finally {
    await client.request(GatewayCommand.LEASE_RELEASE).catch(() => undefined);
  }
}
