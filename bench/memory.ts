import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodePacket } from '../protocol/codec.js';
import { Command } from '../protocol/commands.js';
import { PACKET_SIZE } from '../protocol/constants.js';
import { FlamingoClient } from '../src/client/client.js';
import { createMemoryPair } from '../transports/memory.js';
import { writeAndWaitForRoom } from '../transports/transport.js';
import { printTable, round, type BenchSuite } from './suite.js';

/**
 * Memory under an event flood (issue 6): a client with an `events()` iterator that nobody
 * reads receives 1,000,000 UI_SET_GAUGE_VALUE events. The stream keeps its bounded buffer
 * (the oldest dropped and counted); the heap after the flood must stay near where it
 * started, whatever the number of events. Figures: heap after the flood (after a GC), its
 * growth over the heap before, and the highest heap seen during the flood.
 */

const EVENTS = 1_000_000;
const PER_WRITE = 1000;
const MB = 1024 * 1024;

/** The V8 collector, for heap figures that do not depend on when it last ran. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function floodStalledStream(): Promise<Record<string, number>> {
  const gc = collector();
  const [clientEnd, serverEnd] = createMemoryPair();
  serverEnd.attach({ data: () => undefined, close: () => undefined });
  const client = await FlamingoClient.connect({ transport: clientEnd, mode: 'lease' });
  try {
    const stream = client.events(Command.UI_SET_GAUGE_VALUE);
    let received = 0;
    let peak = 0;
    let finished: () => void = () => undefined;
    const allIn = new Promise<void>((resolve) => (finished = resolve));
    client.on('event', () => {
      received++;
      if (received % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
      if (received === EVENTS) finished();
    });
    // One chunk of PER_WRITE events, written EVENTS / PER_WRITE times (the transport copies each write).
    const chunk = new Uint8Array(PER_WRITE * PACKET_SIZE);
    for (let i = 0; i < PER_WRITE; i++) chunk.set(encodePacket({ code: Command.UI_SET_GAUGE_VALUE, status: 1, int32Data0: i + 1 }), i * PACKET_SIZE);

    gc();
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    for (let written = 0; written < EVENTS; written += PER_WRITE) await writeAndWaitForRoom(serverEnd, chunk);
    await allIn;
    const seconds = (performance.now() - started) / 1000;
    gc();
    const after = process.memoryUsage().heapUsed;
    peak = Math.max(peak, after);

    // The bound itself: the stalled stream holds exactly its capacity, the rest was dropped and counted.
    if (stream.buffered !== stream.capacity || stream.dropped !== EVENTS - stream.capacity) {
      throw new Error(`stalled stream holds ${stream.buffered} and dropped ${stream.dropped} of ${EVENTS}`);
    }
    printTable(
      ['events', 'buffered', 'dropped', 'heap before MB', 'heap after MB', 'growth MB', 'peak MB', 'events/s'],
      [
        [
          String(EVENTS),
          String(stream.buffered),
          String(stream.dropped),
          (before / MB).toFixed(1),
          (after / MB).toFixed(1),
          ((after - before) / MB).toFixed(2),
          (peak / MB).toFixed(1),
          Math.round(EVENTS / seconds).toString(),
        ],
      ],
    );
    return {
      events_flood_heap_mb: round(after / MB, 2),
      events_flood_heap_growth_mb: round((after - before) / MB, 2),
      events_flood_heap_peak_mb: round(peak / MB, 2),
    };
  } finally {
    await client.close();
    serverEnd.destroy();
  }
}

/** The memory suite of `npm run bench`. */
export const memorySuite: BenchSuite = {
  name: 'memory',
  run: floodStalledStream,
};
