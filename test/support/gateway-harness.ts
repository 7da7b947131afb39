/**
 * A simulator behind a gateway, with helpers to connect downstream clients of every kind
 * and close everything a test opened.
 */
import type { EventEmitter } from 'eventemitter3';
import { FlamingoClient, FlamingoGateway, connectGateway, type ClientOptions, type GatewayEvents, type GatewayOptions, type Packet } from 'flamingo-protocol';
import { SimulatedMicroscope, type SimulatorOptions } from 'flamingo-protocol/sim';
import { afterEach } from 'vitest';
import { tcpClient, type WireClient } from './sim-harness.js';

const TIMEOUT_MS = 10_000;

export interface Stack {
  sim: SimulatedMicroscope;
  gateway: FlamingoGateway;
  /** A FlamingoClient through the gateway (closed by cleanup). */
  client(options?: ClientOptions & { token?: string; readOnly?: boolean }): Promise<FlamingoClient>;
  /** A raw protocol client through the gateway (closed by cleanup). */
  raw(options?: { readOnly?: boolean }): Promise<{ client: WireClient; socket: import('node:net').Socket }>;
  cleanup(): Promise<void>;
}

export async function startStack(options: { sim?: SimulatorOptions; gateway?: Partial<GatewayOptions> } = {}): Promise<Stack> {
  const sim = new SimulatedMicroscope({ timeScale: 1000, ...options.sim });
  const address = await sim.listen({ port: 0 });
  let gateway: FlamingoGateway;
  try {
    gateway = await FlamingoGateway.start({
      upstreamPort: address.port,
      upstreamLivePort: address.livePort,
      port: 0,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
      ...options.gateway,
    });
  } catch (error) {
    await sim.close();
    throw error;
  }
  const clients: FlamingoClient[] = [];
  const sockets: import('node:net').Socket[] = [];
  return {
    sim,
    gateway,
    async client(opts = {}) {
      const { token, readOnly, ...rest } = opts;
      const port = readOnly === true ? (gateway.address.readOnlyPort as number) : gateway.address.port;
      const client = await FlamingoClient.connect({
        ...rest,
        ...(token !== undefined ? { transport: () => connectGateway({ port, token }) } : { port }),
      });
      clients.push(client);
      return client;
    },
    async raw(opts = {}) {
      const port = opts.readOnly === true ? (gateway.address.readOnlyPort as number) : gateway.address.port;
      const made = await tcpClient(port);
      sockets.push(made.socket);
      return made;
    },
    async cleanup() {
      await Promise.all(clients.map((c) => c.close()));
      for (const s of sockets) s.destroy();
      await gateway.close();
      await sim.close();
    },
  };
}

/**
 * startStack for one test file: every stack it starts is cleaned up after each test, even
 * one that failed half-way, so no simulator, gateway or client outlives its test. Call once
 * at the file's top level.
 */
export function stacksCleanedUpAfterEach(): typeof startStack {
  const started: Stack[] = [];
  afterEach(async () => {
    for (const stack of started.splice(0)) await stack.cleanup();
  });
  return async (options) => {
    const stack = await startStack(options);
    started.push(stack);
    return stack;
  };
}

/** The next gateway event of this name that passes the filter. */
export function nextGatewayEvent<E extends keyof GatewayEvents>(
  gateway: FlamingoGateway,
  event: E,
  match: (...args: GatewayEvents[E]) => boolean = () => true,
  timeoutMs = TIMEOUT_MS,
): Promise<GatewayEvents[E]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: EventEmitter.ArgumentMap<GatewayEvents>[E]) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      gateway.off(event, listener);
      resolve(args);
    };
    const timer = setTimeout(() => {
      gateway.off(event, listener);
      reject(new Error(`no gateway '${String(event)}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    gateway.on(event, listener);
  });
}

/** Collects every unsolicited packet a FlamingoClient sees. */
export function recordEvents(client: FlamingoClient): Packet[] {
  const seen: Packet[] = [];
  client.on('event', (p) => seen.push(p));
  return seen;
}

/** Sim connection id of the gateway's upstream link (the newest connection to the simulator). */
export function upstreamConnection(sim: SimulatedMicroscope): number {
  const ids = sim.connectionIds;
  if (ids.length !== 1) throw new Error(`expected exactly one simulator connection (the gateway), got ${ids.length}`);
  return ids[0] as number;
}
