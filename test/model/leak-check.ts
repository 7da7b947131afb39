import type { SimulatedMicroscope } from '../../mocks/simulated-microscope.js';
import type { FlamingoClient } from '../../src/client/client.js';
import { InvariantError } from './invariant-error.js';

const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'];

/** How many of the watched resources (sockets, servers, timers) the process holds now. */
export function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) if (WATCHED.includes(r)) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

function resourceDelta(before: Map<string, number>, after: Map<string, number>): string {
  return WATCHED.filter((r) => (after.get(r) ?? 0) > (before.get(r) ?? 0))
    .map((r) => `${r} +${(after.get(r) ?? 0) - (before.get(r) ?? 0)}`)
    .join(', ');
}

/**
 * The end-of-run leak check of a stopped rig: nothing is left of the client, the simulator
 * or the process resources counted in `resourcesBefore` (requests, waiters, sockets, timers).
 */
export async function checkNothingLeft(client: FlamingoClient, sim: SimulatedMicroscope, resourcesBefore: Map<string, number>): Promise<void> {
  // Public facts only: timers (waiters', the reconnect timer) and sockets are counted below.
  if (client.pendingCount !== 0) throw new InvariantError(`after close: ${client.pendingCount} requests pending`);
  if (!client.isClosed || client.isConnected) throw new InvariantError(`after close: closed ${client.isClosed}, connected ${client.isConnected}`);
  if (client.description !== 'not connected') throw new InvariantError(`after close: still linked to ${client.description}`);
  const names = client.eventNames();
  if (names.length !== 0) throw new InvariantError(`after close: client listeners left on ${names.map(String).join(', ')}`);
  if (sim.connections !== 0) throw new InvariantError(`after close: simulator has ${sim.connections} connections`);
  // Sockets close on their own 'close' events: give the loop a few turns before counting.
  let delta = '';
  for (let turn = 0; turn < 50; turn++) {
    delta = resourceDelta(resourcesBefore, countResources());
    if (delta === '') return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new InvariantError(`after close, resources left: ${delta}`);
}
