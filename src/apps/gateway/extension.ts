import { encodePacket } from '../../../protocol/codec.js';
import { Flags } from '../../../protocol/flags.js';
import { connectTcp } from '../../../transports/tcp.js';
import type { TcpTransport } from '../../../transports/tcp.js';
import type { FlamingoClient } from '../../client/client.js';
import { ProtocolError } from '../../errors.js';
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
      ? await connectTls(host, options.port, options.tls, options.connectTimeoutMs)
      : await connectTcp({ host, port: options.port, ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}) });
  if (options.token !== undefined) {
    try {
      await transport.write(encodeGatewayHello(options.token));
    } catch (error) {
      transport.destroy();
      throw error;
    }
  }
  return transport;
}

/**
 * Run `fn` while holding the gateway's exclusive lease (LEASE_ACQUIRE, then LEASE_RELEASE
 * however `fn` ends): other clients of the same gateway wait until it is released.
 * Rejects with ProtocolError when the gateway refuses the lease (read-only connection, or
 * the instrument is gone).
 */
export async function withGatewayLease<T>(client: FlamingoClient, fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
  try {
    await client.request(GatewayCommand.LEASE_ACQUIRE, undefined, {
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      expectOk: true,
    });
  } catch (error) {
    // An acquire that timed out may still be granted later: withdraw it, so that it cannot
    // hold the other clients back. A refusal (ProtocolError) left nothing to withdraw.
    if (!(error instanceof ProtocolError)) await client.request(GatewayCommand.LEASE_RELEASE).catch(() => undefined);
    throw error;
  }
  try {
    return await fn();
  } finally {
    await client.request(GatewayCommand.LEASE_RELEASE).catch(() => undefined);
  }
}
