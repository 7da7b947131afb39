/**
 * Regression (review of issues 12–18): the simulator's live-image server, the capture proxy,
 * the replay server and the MQTT bridge were plain eventemitter3 emitters, so a listener that
 * threw unwound the code that emitted (here: the live-view switch in the middle of a command)
 * and, with nobody listening for 'error', nothing reported it through the emitter. The rule
 * (docs/ARCHITECTURE.md, rule 3): the caller goes on, the exception comes out as 'error'.
 */
import { describe, expect, it } from 'vitest';
import { LiveImageServer } from '../../mocks/live-image.js';

describe('regressions: a throwing listener of the simulated live-image server', () => {
  it('does not unwind setLive; the exception comes out as error on a later tick', async () => {
    const server = new LiveImageServer({ frameIntervalMs: 60_000 });
    const errors: Error[] = [];
    let reportedOne: (error: Error) => void = () => undefined;
    server.on('error', (error) => {
      errors.push(error);
      reportedOne(error);
    });
    const reported = new Promise<Error>((resolve) => {
      reportedOne = resolve;
    });
    server.on('live', (on) => {
      throw new Error(`live listener failed (${String(on)})`);
    });
    let frames = 0;
    server.on('frame', () => frames++);
    expect(() => server.setLive(true)).not.toThrow();
    expect(frames).toBe(1);
    expect((await reported).message).toBe('live listener failed (true)');
    const second = new Promise<Error>((resolve) => {
      reportedOne = resolve;
    });
    server.setLive(false);
    expect((await second).message).toBe('live listener failed (false)');
    expect(errors).toHaveLength(2);
    await server.close();
  });
});
