import { Command, PendingRequest, type PendingInit } from 'flamingo-protocol';

/**
 * A PendingRequest for tests that drive correlation by hand: SYSTEM_STATE_GET named as its
 * command, no fields, no payload, a 1 s reply timeout, outside any exclusive section;
 * `changes` overrides any of these.
 */
export function pendingRequest(changes: Partial<PendingInit> = {}): PendingRequest {
  return new PendingRequest({
    code: Command.SYSTEM_STATE_GET,
    name: 'SYSTEM_STATE_GET',
    fields: undefined,
    payload: undefined,
    timeoutMs: 1000,
    expectOk: false,
    signal: undefined,
    insideExclusive: false,
    ...changes,
  });
}
