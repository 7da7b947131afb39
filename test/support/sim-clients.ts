/**
 * Simulator + clients for the state, moveBy and upload tests: every client and simulator
 * opened through a `SimClients` is closed by its `cleanup()`.
 */
import { DelegatingTransport, FlamingoClient, createMemoryPair, type ClientOptions, type Transport } from 'flamingo-protocol';
import { SimulatedMicroscope, type SimulatorOptions } from 'flamingo-protocol/sim';

export type Kind = 'tcp' | 'memory';
export type Mode = 'sequenced' | 'lease';
/** Transport kind × correlation mode (the simulator echoes sequences only for 'sequenced'). */
export const MATRIX: [Kind, Mode][] = [
  ['memory', 'sequenced'],
  ['memory', 'lease'],
  ['tcp', 'sequenced'],
  ['tcp', 'lease'],
];

export class SimClients {
  readonly sim: SimulatedMicroscope;
  private readonly clients: FlamingoClient[] = [];
  /** Largest piece a memory pair cuts writes into (0: whole); small by default to exercise reassembly. */
  fragmentMaxBytes = 97;
  private port: number | undefined;

  constructor(mode: Mode, options: SimulatorOptions = {}) {
    this.sim = new SimulatedMicroscope({ echoSequence: mode === 'sequenced', seed: 11, timeScale: 1000, workflowDurationMs: 100, ...options });
  }

  /**
   * A client in auto mode over `kind`. `wrap` may wrap the client's end of the link (a
   * memory pair end, or the TCP transport) to watch or hold its traffic.
   */
  async connect(kind: Kind, options: ClientOptions = {}, wrap?: (t: Transport) => Transport): Promise<FlamingoClient> {
    let client: FlamingoClient;
    if (kind === 'tcp') {
      if (this.port === undefined) this.port = (await this.sim.listen({ port: 0, host: '127.0.0.1' })).port;
      const port = this.port;
      if (wrap === undefined) client = await FlamingoClient.connect({ host: '127.0.0.1', port, ...options });
      else {
        const { connectTcp } = await import('flamingo-protocol');
        client = await FlamingoClient.connect({ transport: async () => wrap(await connectTcp({ host: '127.0.0.1', port })), ...options });
      }
    } else {
      const sim = this.sim;
      const self = this;
      client = await FlamingoClient.connect({
        transport: () => {
          const [mine, theirs] = createMemoryPair({ fragmentMaxBytes: self.fragmentMaxBytes, seed: 5 });
          sim.attach(theirs);
          return wrap === undefined ? mine : wrap(mine);
        },
        ...options,
      });
    }
    this.clients.push(client);
    return client;
  }

  async cleanup(): Promise<void> {
    for (const c of this.clients) await c.close();
    await this.sim.close();
  }
}

/** A transport that forwards everything to `inner`, letting a test see (and delay) each write. */
export class TapTransport extends DelegatingTransport {
  constructor(
    inner: Transport,
    private readonly onWrite: (bytes: Uint8Array) => Promise<void> | void,
  ) {
    super(inner);
  }
  override get description(): string {
    return `tap(${this.inner.description})`;
  }
  override async write(bytes: Uint8Array): Promise<void> {
    const hold = this.onWrite(bytes);
    if (hold !== undefined) await hold;
    return this.inner.write(bytes);
  }
}

/** Command code of the packet header at the start of `bytes` (undefined for a payload chunk). */
export function headerCode(bytes: Uint8Array): number | undefined {
  if (bytes.length < 128) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 128);
  if (view.getUint32(0, true) !== 0xf321e654 || view.getUint32(124, true) !== 0xfedc4321) return undefined;
  return view.getUint32(4, true);
}
