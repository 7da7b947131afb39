import { describe, expect, it } from 'vitest';
import {
  Command,
  IMAGE_HEADER_SIZE,
  LiveStream,
  PNG_SIGNATURE,
  connectGateway,
  connectTcp,
  encodePacket,
  frameToPng,
  openLiveStream,
  type ImageFrame,
} from 'flamingo-protocol';
import { nextGatewayEvent, stacksCleanedUpAfterEach } from '../support/gateway-harness.js';
import { simulatedLiveStartOptions } from '../support/live-view.js';

const startStack = stacksCleanedUpAfterEach();

function checkFrame(frame: ImageFrame, width: number, height: number): void {
  expect([frame.header.width, frame.header.height, frame.header.imageSize, frame.pixels.length]).toEqual([
    width,
    height,
    width * height * 2,
    width * height * 2,
  ]);
}

function checkPng(png: Uint8Array, width: number, height: number): void {
  expect(Array.from(png.subarray(0, 8))).toEqual(Array.from(PNG_SIGNATURE));
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  expect(view.getUint32(8)).toBe(13);
  expect(new TextDecoder().decode(png.subarray(12, 16))).toBe('IHDR');
  expect([view.getUint32(16), view.getUint32(20)]).toEqual([width, height]);
  expect(new TextDecoder().decode(png.subarray(png.length - 8, png.length - 4))).toBe('IEND');
}

describe('gateway live-image relay', () => {
  it("relays the instrument's frames to several viewers on demand; frames decode to the right size and save as a PNG", async () => {
    const stack = await startStack({ sim: { liveFrameWidth: 96, liveFrameHeight: 64 } });
    const { gateway, sim } = stack;
    const relay = gateway.liveRelay;
    expect(relay).not.toBeNull();
    expect(relay?.relaying).toBe(false);
    const app = await stack.client();
    const livePort = gateway.address.livePort as number;
    const opened = nextGatewayEvent(gateway, 'log', (line) => line.startsWith('instrument live stream'));
    const first = await app.live({ port: livePort });
    const second = await openLiveStream({ port: livePort });
    expect(await opened).toEqual([`instrument live stream 127.0.0.1:${sim.address?.livePort} opened`]);

    await app.send(Command.CAMERA_LIVE_VIEW_START);
    const a = await first.nextFrame(10_000);
    const b = await second.nextFrame(10_000);
    checkFrame(a, 96, 64);
    checkFrame(b, 96, 64);
    // Both viewers were connected before the live view started, so neither missed the first frame.
    expect([a.header.imageIndexStart, b.header.imageIndexStart]).toEqual([1, 1]);
    // The simulator opens live view with an options-only header: relayed to every viewer, in
    // its place before the first frame, as options and not as a frame.
    const options = simulatedLiveStartOptions(96, 64);
    expect([first.options, second.options]).toEqual([options, options]);
    expect([first.optionsUpdates, second.optionsUpdates, relay?.optionsHeaders]).toEqual([1, 1, 1]);
    expect([first.received, second.received]).toEqual([1, 1]);
    const { png } = frameToPng(a);
    checkPng(png, 96, 64);
    await app.send(Command.CAMERA_LIVE_VIEW_STOP);

    const closedUpstream = nextGatewayEvent(gateway, 'log', (line) => line === 'no viewers left: instrument live stream closed');
    await first.close();
    await second.close();
    await closedUpstream;
    expect(relay?.relaying).toBe(false);
    expect(relay?.viewers.length).toBe(0);
    expect(relay?.frames).toBeGreaterThanOrEqual(1);
  });

  it('with a token, a live viewer must send GATEWAY_HELLO first; others are closed and counted', async () => {
    const stack = await startStack({ gateway: { token: 'live-token' } });
    const { gateway } = stack;
    const livePort = gateway.address.livePort as number;
    const app = await stack.client({ token: 'live-token' });
    // A client on a custom transport cannot guess the live port.
    await expect(app.live()).rejects.toThrow('live(): a client on a custom transport needs an explicit live-image port');

    const rejected = nextGatewayEvent(
      gateway,
      'log',
      (line) => line.endsWith('refused: first bytes were not a GATEWAY_HELLO packet') || line.endsWith('refused: wrong token'),
    );
    const intruder = await connectTcp({ port: livePort });
    const intruderClosed = new Promise<void>((resolve) => intruder.attach({ data: () => {}, close: () => resolve() }));
    await intruder.write(encodePacket({ code: Command.SYSTEM_STATE_GET }));
    await rejected;
    await intruderClosed;
    const wrongToken = await connectGateway({ port: livePort, token: 'guess' });
    const wrongClosed = new Promise<void>((resolve) => wrongToken.attach({ data: () => {}, close: () => resolve() }));
    await wrongClosed;
    expect(gateway.stats.rejected).toBe(2);

    const viewer = new LiveStream(await connectGateway({ port: livePort, token: 'live-token' }));
    await app.send(Command.CAMERA_LIVE_VIEW_START);
    const frame = await viewer.nextFrame(10_000);
    checkFrame(frame, 256, 256);
    expect(frame.pixels.length + IMAGE_HEADER_SIZE).toBe(256 * 256 * 2 + 40);
    await app.send(Command.CAMERA_LIVE_VIEW_STOP);
    await viewer.close();
    expect(gateway.stats.rejected).toBe(2);
  });
});
