/**
 * Issue 18, gateway part left open: a packet WITHOUT the callback flag whose code the
 * instrument answers anyway (reply rule `always`, protocol/command-profile.ts) used to be
 * forwarded fire-and-forget. Its answer then reached every app as an event (sequenced
 * upstream) or no one (lease upstream: the stray fence made it unmatched), never its sender.
 * The gateway model found the same without the fix: [burst(app0: unaskeda007,fire6002; 0)].
 */
import { describe, expect, it } from 'vitest';
import { Command, Flags, type Packet } from 'flamingo-protocol';
import { recordEvents, stacksCleanedUpAfterEach, upstreamConnection } from '../support/gateway-harness.js';
import { until } from '../support/wait.js';

const startStack = stacksCleanedUpAfterEach();
const ANSWERED_ANYWAY: [string, number][] = [
  ['SYSTEM_STATE_GET', Command.SYSTEM_STATE_GET],
  ['CAMERA_PIXEL_FIELD_OF_VIEW_GET', Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET],
  ['CAMERA_WORKFLOW_STOP', Command.CAMERA_WORKFLOW_STOP],
];

describe.each([
  ['lease', false],
  ['sequenced', true],
])('upstream %s mode', (_mode, echoSequence) => {
  it.each(ANSWERED_ANYWAY)('a flagless %s is answered to its sender only, with its own sequence fields, never to another app', async (_name, code) => {
    const stack = await startStack({ sim: { echoSequence } });
    const other = await stack.client();
    const seen = recordEvents(other);
    const { client: raw } = await stack.raw();
    const before = stack.sim.records.filter((r) => r.code === code).length;
    raw.send({ code, clientId: 41, subsystemId: 3 });
    const answer = await raw.next((p: Packet) => p.code === code);
    expect([answer.code, answer.status, answer.clientId, answer.subsystemId, answer.hardwareId]).toEqual([code, 1, 41, 3, 0]);
    // Another app's own request of the same code gets its own answer, and after it
    // anything the flagless packet caused has reached the other app.
    const own = await other.request(code);
    expect(own.status).toBe(1);
    expect(seen.filter((p) => p.code === code)).toEqual([]);
    expect(raw.received.filter((p) => p.code === code)).toHaveLength(1);
    // Forwarded once: the instrument saw one packet of the code from each app.
    expect(stack.sim.records.filter((r) => r.code === code)).toHaveLength(before + 2);
    expect(stack.gateway.stats.failures).toBe(0);
  });

  it('guard: a flagless SYSTEM_STATE_GET the instrument leaves unanswered gets no failure reply (its sender asked for none)', async () => {
    const stack = await startStack({ sim: { echoSequence }, gateway: { requestTimeoutMs: 100 } });
    const { client: raw } = await stack.raw();
    const upstream = upstreamConnection(stack.sim);
    stack.sim.setFaults(upstream, 'drop=1');
    const before = stack.sim.records.length;
    raw.send({ code: Command.SYSTEM_STATE_GET, clientId: 7 });
    await until(() => stack.sim.records.length > before, 5000, 'forwarded');
    await until(() => stack.gateway.upstream.pendingCount === 0, 5000, 'the upstream request timed out');
    stack.sim.setFaults(upstream, '');
    raw.send({ code: Command.SYSTEM_STATE_GET, clientId: 8, cmdDataBits0: Flags.TRIGGER_CALL_BACK });
    const answer = await raw.next((p: Packet) => p.code === Command.SYSTEM_STATE_GET);
    expect([answer.clientId, answer.status]).toEqual([8, 1]);
    expect(raw.received).toHaveLength(1);
    expect(stack.gateway.stats.failures).toBe(0);
  });
});
