import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  Command,
  Flags,
  FlamingoGateway,
  GatewayCommand,
  READ_ONLY_COMMANDS,
  buildWorkflowText,
  dataText,
  encodeGatewayHello,
  encodePacket,
  isLoopbackHost,
  readOnlyAllows,
  withGatewayLease,
  ProtocolError,
  type Packet,
} from 'flamingo-protocol';
import { tcpClient } from '../support/sim-harness.js';
import { nextGatewayEvent, stacksCleanedUpAfterEach, upstreamConnection } from '../support/gateway-harness.js';

const startStack = stacksCleanedUpAfterEach();

const CB = Flags.TRIGGER_CALL_BACK;
const TOKEN = 'open sesame';

describe('gateway access token', () => {
  it('refuses a non-loopback listen address without a token, before connecting anywhere', async () => {
    const error = await FlamingoGateway.start({ upstreamPort: 1, host: '0.0.0.0', port: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toBe('listening on 0.0.0.0 (not loopback) requires a token');
    expect([isLoopbackHost('127.0.0.1'), isLoopbackHost('127.3.2.1'), isLoopbackHost('::1'), isLoopbackHost('localhost')]).toEqual([true, true, true, true]);
    expect([isLoopbackHost('0.0.0.0'), isLoopbackHost('192.168.1.5'), isLoopbackHost('::'), isLoopbackHost('1270.0.0.1')]).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('checks the token in the first packet and closes and counts every connection without it', async () => {
    const stack = await startStack({ gateway: { token: TOKEN, helloTimeoutMs: 300 } });
    const { sim, gateway } = stack;
    const port = gateway.address.port;

    // 1. Wrong token, with the callback flag: a failure reply, then the connection closes.
    const wrong = await tcpClient(port);
    wrong.client.writeRaw(encodeGatewayHello('open sesame!', { callback: true }));
    const refusal = await wrong.client.next();
    expect([refusal.code, refusal.status, dataText(refusal)]).toEqual([GatewayCommand.GATEWAY_HELLO, 0, 'gateway: wrong token']);
    await wrong.client.whenClosed();

    // 2. A command before any hello: closed, nothing forwarded, no reply.
    const rude = await tcpClient(port);
    rude.client.send({ code: Command.STAGE_POSITION_SET, int32Data0: 1, value: 9, cmdDataBits0: CB });
    await rude.client.whenClosed();
    expect(rude.client.received).toEqual([]);

    // 3. Silence: closed when the hello timeout passes.
    const silent = await tcpClient(port);
    const [timedOut] = await nextGatewayEvent(gateway, 'closed', (info) => info.reason.startsWith('refused: no GATEWAY_HELLO'));
    expect(timedOut.reason).toBe('refused: no GATEWAY_HELLO within 300 ms');
    await silent.client.whenClosed();

    // The right token: a FlamingoClient through connectGateway works normally.
    const client = await stack.client({ token: TOKEN });
    expect(client.mode).toBe('sequenced');
    const reply = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 });
    expect([reply.status, reply.int32Data0, reply.value]).toEqual([1, 2, sim.stagePosition(2)]);
    // A raw client with the right token and the callback flag gets status 1 with its id back.
    const polite = await tcpClient(port);
    polite.client.writeRaw(encodeGatewayHello(TOKEN, { callback: true }));
    polite.socket.write(encodeGatewayHelloFollowUp());
    const welcome = await polite.client.next();
    expect([welcome.code, welcome.status]).toEqual([GatewayCommand.GATEWAY_HELLO, 1]);
    const state = await polite.client.next();
    expect([state.code, state.status, state.clientId]).toEqual([Command.SYSTEM_STATE_GET, 1, 5]);
    polite.socket.destroy();
    rude.socket.destroy();
    wrong.socket.destroy();
    silent.socket.destroy();

    expect(gateway.stats.rejected).toBe(3);
    // Nothing from the refused connections reached the instrument.
    const codes = sim.recordsFor(upstreamConnection(sim)).map((r) => r.code);
    expect(codes).not.toContain(Command.STAGE_POSITION_SET);
    expect(codes).not.toContain(GatewayCommand.GATEWAY_HELLO);
  });
});

/** A SYSTEM_STATE_GET (sequence 5) written right behind the hello, in the same burst. */
function encodeGatewayHelloFollowUp(): Uint8Array {
  return encodePacket({ code: Command.SYSTEM_STATE_GET, clientId: 5, cmdDataBits0: CB });
}

describe('gateway read-only port', () => {
  it('allows only the documented queries', () => {
    expect([...READ_ONLY_COMMANDS].sort((a, b) => a - b)).toEqual(
      [
        Command.COMMON_SCOPE_SETTINGS,
        Command.COMMON_SCOPE_SETTINGS_LOAD,
        Command.STORAGE_PATH_GET,
        Command.LASER_LEVEL_GET,
        Command.CAMERA_EXPOSURE_GET,
        Command.CAMERA_IMAGE_SIZE_GET,
        Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET,
        Command.FILTER_POSITION_GET,
        Command.STAGE_POSITION_GET,
        Command.STAGE_SAVE_LOCATIONS_GET,
        Command.SYSTEM_STATE_GET,
        GatewayCommand.GATEWAY_HELLO,
        GatewayCommand.LEASE_RELEASE,
      ].sort((a, b) => a - b),
    );
    expect(readOnlyAllows(Command.STAGE_POSITION_SET)).toBe(false);
    expect(readOnlyAllows(GatewayCommand.LEASE_ACQUIRE)).toBe(false);
  });

  it('gives read-only clients events and query replies, and refuses their commands with a failure status', async () => {
    const stack = await startStack({ gateway: { readOnlyPort: 0, token: TOKEN } });
    const { sim, gateway } = stack;
    const viewer = await stack.client({ token: TOKEN, readOnly: true });
    const operator = await stack.client({ token: TOKEN });
    expect(gateway.sessions.map((s) => s.readOnly)).toEqual([true, false]);

    const state = await viewer.request(Command.SYSTEM_STATE_GET);
    expect([state.status, state.int32Data0]).toEqual([1, 0xa002]);
    const position = await viewer.request(Command.STAGE_POSITION_GET, { int32Data0: 3 });
    expect([position.status, position.int32Data0, position.value]).toEqual([1, 3, sim.stagePosition(3)]);
    const settings = await viewer.settings();
    expect(settings).toBe(sim.settingsText);

    const refused: Packet[] = await Promise.all([
      viewer.request(Command.STAGE_POSITION_SET, { int32Data0: 1, value: 9 }),
      viewer.request(Command.LED_SET, { int32Data0: 2, int32Data1: 50_000 }),
      viewer.request(Command.COMMON_SCOPE_SETTINGS_SAVE, undefined, { payload: new TextEncoder().encode(buildWorkflowText({ numberOfPlanes: 2 })) }),
      viewer.request(Command.STAGE_HOME),
      viewer.request(GatewayCommand.LEASE_ACQUIRE),
    ]);
    expect(refused.map((p) => [p.code, p.status, p.int32Data0, dataText(p)])).toEqual([
      [Command.STAGE_POSITION_SET, 0, 1, 'gateway: read-only connection'],
      [Command.LED_SET, 0, 0, 'gateway: read-only connection'],
      [Command.COMMON_SCOPE_SETTINGS_SAVE, 0, 0, 'gateway: read-only connection'],
      [Command.STAGE_HOME, 0, 0, 'gateway: read-only connection'],
      [GatewayCommand.LEASE_ACQUIRE, 0, 0, 'gateway: read-only connection'],
    ]);
    // Fire-and-forget commands are dropped too (and counted), never forwarded.
    await viewer.send(Command.LASER_ALL_DISABLE);
    await viewer.send(Command.STAGE_HALT);
    // A round trip after them proves the gateway has handled them.
    expect((await viewer.request(Command.SYSTEM_STATE_GET)).status).toBe(1);
    // The lease helper turns the refusal into ProtocolError and never runs the section.
    let ran = false;
    const leased = await withGatewayLease(viewer, async () => (ran = true)).catch((e: unknown) => e);
    expect(leased).toBeInstanceOf(ProtocolError);
    expect(ran).toBe(false);
    expect(gateway.stats.readOnlyRefused).toBe(8);
    expect(gateway.leases.holder).toBeNull();

    // The viewer still sees the events another client's commands cause.
    const stopped = viewer.waitFor('STAGE_MOTION_STOPPED', { timeoutMs: 10_000 });
    const moved = await operator.stage.moveTo(2, 12.5);
    expect(moved.reached).toBe(true);
    const event = await stopped;
    expect([event.status, event.int32Data0, event.value]).toEqual([1, 2, 12.5]);

    const codes = sim.recordsFor(upstreamConnection(sim)).map((r) => r.code);
    for (const code of [Command.LASER_LEVEL_SET, Command.CAMERA_WORKFLOW_START, Command.STAGE_HOME, Command.LASER_ALL_DISABLE, Command.STAGE_HALT]) {
      expect(codes).not.toContain(code);
    }
    // The operator's one move is the only STAGE_POSITION_SET the instrument saw.
    expect(codes.filter((c) => c === Command.STAGE_POSITION_SET).length).toBe(1);
  });
});

describe('gateway framing', () => {
  it('closes a client whose stream claims an over-limit payload; the others are untouched', async () => {
    const stack = await startStack({ gateway: { maxPayloadBytes: 4096 } });
    const { gateway } = stack;
    const other = await stack.client();
    const { client: hostile } = await stack.raw();
    const header = encodePacket({ code: Command.COMMON_SCOPE_SETTINGS_LOAD, cmdDataBits0: CB });
    new DataView(header.buffer).setUint32(48, 0xffffffff, true);
    const closed = nextGatewayEvent(gateway, 'closed', (info) => info.end.kind === 'frame');
    hostile.writeRaw(header);
    const [info] = await closed;
    expect(info.reason).toMatch(/^closed: payload claim of 4294967295 bytes exceeds the limit of 4096/);
    await hostile.whenClosed();
    expect(hostile.received).toEqual([]);
    const reply = await other.request(Command.SYSTEM_STATE_GET);
    expect(reply.status).toBe(1);
    expect(stack.sim.records.some((r) => r.code === Command.COMMON_SCOPE_SETTINGS_LOAD)).toBe(false);
  });
});
