import { describe, expect, it } from 'vitest';
import { buildWorkflowText, Command, DEFAULT_SETTINGS_TEXT, FlamingoClient, WorkflowRunningError } from 'flamingo-protocol';
import { runConformance } from '../../src/apps/conformance/index.js';
import { startEvidenceServer, type EvidenceServer } from '../support/evidence-server.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

const cleanups = cleanedUpAfterEach();

async function server(): Promise<EvidenceServer> {
  const s = await startEvidenceServer();
  cleanups.push(() => s.close());
  return s;
}

async function client(port: number): Promise<FlamingoClient> {
  const c = await FlamingoClient.connect({ port, requestTimeoutMs: 1000 });
  cleanups.push(() => c.close());
  return c;
}

describe('against a server that behaves as the instrument evidence describes', () => {
  it('flamingo conform: zero FAIL (extensions are INFO)', async () => {
    const s = await server();
    const report = await runConformance({ port: s.port, quietMs: 40, replyTimeoutMs: 1000, moveTimeoutMs: 2000, workflowTimeoutMs: 3000 });
    expect(report.results.filter((r) => r.status === 'fail')).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.echoesSequence).toBe(false);
    const info = report.results.filter((r) => r.status === 'info').map((r) => r.name);
    expect(info).toEqual(['sequence-echo', 'zero-length-move']);
  });

  it('the client picks lease mode, reads idle as 0xA002, reads the bare settings text', async () => {
    const s = await server();
    const c = await client(s.port);
    expect(c.mode).toBe('lease');
    expect(await c.system.state()).toBe('idle');
    expect(await c.system.reading()).toEqual({ state: 'idle', code: 0xa002, name: 'SYSTEM_STATE_IDLE' });
    expect(await c.settings()).toBe(DEFAULT_SETTINGS_TEXT);
  });

  it('lasers.setLevel writes without waiting and resolves with the quantised level read back', async () => {
    const s = await server();
    const c = await client(s.port);
    expect(await c.lasers.setLevel(2, 10)).toBe(10.5);
    const sets = s.received.filter((p) => p.code === Command.LASER_LEVEL_SET);
    expect(sets.map((p) => [p.int32Data0, new TextDecoder().decode(p.data).replace(/\0+$/, ''), p.cmdDataBits0 >>> 0])).toEqual([[2, '10.00', 0x80000000]]);
    await expect(c.request(Command.LASER_LEVEL_SET, { int32Data0: 2, data: '5.00' })).rejects.toMatchObject({ code: 'ARGUMENT' });
  });

  it('workflow.start: vendor framing, stale idle ignored, counts from the last gauge, position reads fail fast during the run', async () => {
    const s = await server();
    const c = await client(s.port);
    const text = buildWorkflowText({ numberOfPlanes: 6 }).replace(/\n/g, '\r\n');
    let duringRun: unknown;
    const run = c.workflow.start(text, {
      pollIntervalMs: 5,
      startTimeoutMs: 2000,
      onProgress: () => {
        if (duringRun === undefined) duringRun = c.stage.position(1).catch((e: unknown) => e);
      },
    });
    const result = await run;
    expect(result).toMatchObject({ acquired: 6, expected: 6, stacks: 0, countsFrom: 'gauge' });
    expect(await duringRun).toBeInstanceOf(WorkflowRunningError);
    const start = s.received.find((p) => p.code === Command.CAMERA_WORKFLOW_START);
    expect(start?.cmdDataBits0).toBe(0x80000000);
    expect(start?.addDataBytes).toBe(new TextEncoder().encode(text).length);
    expect(new TextDecoder().decode(start?.payload)).toBe(text);
    expect(start?.data.every((b) => b === 0)).toBe(true);
    expect(await c.stage.position(1)).toBe(7.5);
  });

  it('workflow.start rejects with a clear error when the instrument never starts the run', async () => {
    const s = await server();
    const c = await client(s.port);
    await expect(c.workflow.start('not a workflow', { pollIntervalMs: 5, startTimeoutMs: 100 })).rejects.toThrow(
      /did not start within 100 ms .*refuses a workflow it cannot run/,
    );
  });
});
