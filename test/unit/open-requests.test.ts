/**
 * OpenRequests: the client's requests not yet settled, in slots instead of a Set (issue 14:
 * a Set under one add and one delete per round trip rebuilt its table every few requests).
 */
import { describe, expect, it } from 'vitest';
import { Command, decodePacket, encodePacket, type PendingRequest } from 'flamingo-protocol';
import { OpenRequests } from '../../src/correlation/open-requests.js';
import { pendingRequest } from '../support/pending-request.js';

function request(n: number): PendingRequest {
  return pendingRequest({ name: `R${n}` });
}

describe('OpenRequests', () => {
  it('removes from any slot by moving the last request into it, and keeps every slot right', () => {
    const open = new OpenRequests();
    const [a, b, c, d] = [1, 2, 3, 4].map(request) as [PendingRequest, PendingRequest, PendingRequest, PendingRequest];
    for (const r of [a, b, c, d]) open.add(r);
    expect(open.delete(b)).toBe(true);
    // R4 moved into R2's slot; a snapshot is still in the order they were added.
    expect([a.registrySlot, d.registrySlot, c.registrySlot, b.registrySlot]).toEqual([0, 1, 2, -1]);
    expect(open.snapshot().map((r) => r.name)).toEqual(['R1', 'R3', 'R4']);
    expect(open.delete(c)).toBe(true);
    expect(open.delete(a)).toBe(true);
    expect(open.snapshot().map((r) => r.name)).toEqual(['R4']);
    expect(d.registrySlot).toBe(0);
    expect(open.size).toBe(1);
  });

  it('answers false for a request it does not hold, and refuses one that another registry holds', () => {
    const one = new OpenRequests();
    const two = new OpenRequests();
    const r = request(1);
    expect(one.delete(r)).toBe(false);
    one.add(r);
    expect(two.delete(r)).toBe(false);
    expect(() => two.add(r)).toThrow('R1 is tracked already');
    expect([one.size, two.size]).toEqual([1, 0]);
  });

  it('lets a settled request remove itself, however it settles', () => {
    const open = new OpenRequests();
    const rs = [1, 2, 3].map(request);
    for (const r of rs) open.add(r);
    rs[1]?.fail(new Error('gone'));
    rs[0]?.resolveWith(decodePacket(encodePacket({ code: Command.SYSTEM_STATE_GET })));
    expect(open.snapshot()).toEqual([rs[2]]);
    rs[2]?.fail(new Error('gone'));
    expect(open.size).toBe(0);
    // Settling again changes nothing.
    rs[2]?.fail(new Error('again'));
    expect(open.size).toBe(0);
  });

  it('gives snapshots in the order requests were added, after removals moved them between slots', () => {
    const open = new OpenRequests();
    const rs = [1, 2, 3, 4, 5, 6].map(request);
    for (const r of rs.slice(0, 4)) open.add(r);
    open.delete(rs[0] as PendingRequest);
    open.delete(rs[2] as PendingRequest);
    for (const r of rs.slice(4)) open.add(r);
    expect(open.snapshot().map((r) => r.name)).toEqual(['R2', 'R4', 'R5', 'R6']);
  });

  it('holds a snapshot that does not change while its requests settle (close() fails them while iterating)', () => {
    const open = new OpenRequests();
    const rs = [1, 2, 3, 4].map(request);
    for (const r of rs) open.add(r);
    const failed: string[] = [];
    for (const r of open.snapshot()) {
      r.fail(new Error('closed'));
      failed.push(r.name);
    }
    expect(failed).toEqual(['R1', 'R2', 'R3', 'R4']);
    expect(open.size).toBe(0);
  });
});
