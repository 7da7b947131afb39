import { FlamingoClient, type ClientOptions } from 'flamingo-protocol';
import { FakeServer } from './fake-server.js';

export type TransportKind = 'memory' | 'tcp';
export type Mode = 'sequenced' | 'lease';

export interface Harness {
  server: FakeServer;
  client: FlamingoClient;
  /** Close the client and the server (idempotent). */
  cleanup(): Promise<void>;
}

/**
 * A client connected in auto mode to a fake server that echoes sequences (→ sequenced) or
 * not (→ lease), over a fragmenting memory pair or loopback TCP. The probe is packet 1.
 */
export async function connectFake(kind: TransportKind, mode: Mode, options: ClientOptions = {}): Promise<Harness> {
  const server = new FakeServer({ echoSequence: mode === 'sequenced' });
  let client: FlamingoClient;
  if (kind === 'memory') {
    client = await FlamingoClient.connect({ transport: () => server.connectMemory({ fragmentMaxBytes: 61, seed: 7 }), ...options });
  } else {
    const port = await server.listen();
    client = await FlamingoClient.connect({ host: '127.0.0.1', port, ...options });
  }
  return {
    server,
    client,
    async cleanup() {
      await client.close();
      await server.close();
    },
  };
}

export const KINDS: TransportKind[] = ['memory', 'tcp'];
const MODES: Mode[] = ['sequenced', 'lease'];
export const MATRIX: [TransportKind, Mode][] = KINDS.flatMap((k) => MODES.map((m) => [k, m] as [TransportKind, Mode]));

/** Settle a promise into a tagged result, so a test can assert on a rejection without an unhandled one. */
export function outcome<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: Error) => ({ ok: false as const, error }),
  );
}
