import { describe, expect, it } from 'vitest';
import { Command, createMemoryPair, encodePacket, FlamingoClient } from '../../src/index.js';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { MqttBridge } from '../../src/apps/bridge/mqtt-bridge.js';
import { toolAvailable, which } from '../support/capture-helpers.js';
import { aedesBroker, mosquittoBroker, Subscriber, type TestBroker } from '../support/mqtt-brokers.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

const cleanups = cleanedUpAfterEach();

// aedes speaks MQTT 3.1.1 only: the bridge falls back to it, and requests carry their
// response topic and correlation data in the JSON body. mosquitto speaks v5: properties.
const brokers: [string, () => Promise<TestBroker>, 4 | 5][] = [['aedes (embedded)', aedesBroker, 4]];
if (toolAvailable('mosquitto')) brokers.push(['mosquitto', () => mosquittoBroker(which('mosquitto') as string), 5]);

async function instrument(): Promise<{ sim: SimulatedMicroscope; client: FlamingoClient }> {
  const sim = new SimulatedMicroscope({ echoSequence: false, timeScale: 1000 });
  const { port } = await sim.listen({ port: 0, host: '127.0.0.1' });
  const client = await FlamingoClient.connect({ port, mode: 'lease' });
  cleanups.push(async () => {
    await client.close();
    await sim.close();
  });
  return { sim, client };
}

async function setUp(name: string, makeBroker: () => Promise<TestBroker>, version: 4 | 5, bridgeOptions: { allowRead?: boolean; allow?: number[] } = {}) {
  const broker = await makeBroker();
  cleanups.push(() => broker.dispose());
  const { sim, client } = await instrument();
  const bridge = await MqttBridge.start(client, { url: broker.url, name, ...bridgeOptions, mqtt: { reconnectPeriod: 100 } });
  cleanups.push(() => bridge.close());
  const sub = await Subscriber.connect(broker.url, [`flamingo/${name}/#`, `test/${name}/replies`], version);
  cleanups.push(() => sub.close());
  return { broker, sim, client, bridge, sub };
}

/** A request and its reply, by v5 properties or (3.1.1) fields in the body; the body's correlation echo is removed. */
function ask(sub: Subscriber, version: 4 | 5, name: string, command: string, fields: Record<string, unknown>, id: string) {
  const responseTopic = `test/${name}/replies`;
  const topic = `flamingo/${name}/request/${command}`;
  if (version === 5) {
    const correlationData = Buffer.from(id);
    sub.client.publish(topic, JSON.stringify(fields), { qos: 1, properties: { responseTopic, correlationData } });
    return sub
      .next((m) => m.topic === responseTopic && m.correlationData?.equals(correlationData) === true)
      .then((m) => JSON.parse(m.text) as Record<string, unknown>);
  }
  sub.client.publish(topic, JSON.stringify({ ...fields, responseTopic, correlationData: id }), { qos: 1 });
  return sub
    .next((m) => m.topic === responseTopic && JSON.parse(m.text).correlationData === id)
    .then((m) => {
      const { correlationData: _, ...body } = JSON.parse(m.text) as Record<string, unknown>;
      return body;
    });
}

describe.each(brokers)('MQTT bridge on %s', (_label, makeBroker, version) => {
  it('publishes retained availability and state, and events as they come', async () => {
    const { sim, sub } = await setUp('scope1', makeBroker, version);
    const online = await sub.next((m) => m.topic === 'flamingo/scope1/availability');
    expect([online.text, online.retain]).toEqual(['online', true]);
    const state = await sub.next((m) => m.topic === 'flamingo/scope1/state');
    expect(JSON.parse(state.text)).toMatchObject({ connection: { state: 'connected' } });
    sim.broadcast({ code: Command.SYSTEM_STATE_IDLE, status: 1 });
    const event = await sub.next((m) => m.topic === 'flamingo/scope1/events/SYSTEM_STATE_IDLE');
    expect(JSON.parse(event.text)).toMatchObject({ name: 'SYSTEM_STATE_IDLE', code: Command.SYSTEM_STATE_IDLE, status: 1 });
  });

  it('answers allowed requests on the response topic with the correlation data; refuses the rest without sending anything', async () => {
    const { sim, sub } = await setUp('scope2', makeBroker, version, { allowRead: true });
    const before = sim.records.length;
    const refusedAction = await ask(sub, version, 'scope2', 'STAGE_POSITION_SET', { int32Data0: 1, value: 3 }, 'a');
    expect(refusedAction).toEqual({
      ok: false,
      command: 'STAGE_POSITION_SET',
      error: 'STAGE_POSITION_SET is not allowed on this bridge (start it with --allow STAGE_POSITION_SET)',
    });
    if (version === 5) {
      // Not JSON: under 3.1.1 there is then no response topic to answer on (the body holds it).
      const correlationData = Buffer.from('b');
      sub.client.publish('flamingo/scope2/request/STAGE_POSITION_GET', '{not json', {
        qos: 1,
        properties: { responseTopic: 'test/scope2/replies', correlationData },
      });
      const m = await sub.next((x) => x.topic === 'test/scope2/replies' && x.correlationData?.equals(correlationData) === true);
      expect(JSON.parse(m.text)).toEqual({ ok: false, command: 'STAGE_POSITION_GET', error: 'the request is not JSON' });
    }
    expect(await ask(sub, version, 'scope2', 'NO_SUCH_COMMAND', {}, 'c')).toEqual({
      ok: false,
      command: 'NO_SUCH_COMMAND',
      error: 'unknown command "NO_SUCH_COMMAND"',
    });
    expect(await ask(sub, version, 'scope2', 'STAGE_POSITION_GET', { int32Data0: 4294967296 }, 'd')).toEqual({
      ok: false,
      command: 'STAGE_POSITION_GET',
      error: 'int32Data0 must be an integer from -2147483648 to 2147483647',
    });
    expect(await ask(sub, version, 'scope2', 'STAGE_POSITION_GET', { axis: 1 }, 'e')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^unknown field "axis"/),
    });
    expect(sim.records.length).toBe(before);
    const answer = await ask(sub, version, 'scope2', 'STAGE_POSITION_GET', { int32Data0: 2 }, 'f');
    expect(answer).toMatchObject({ ok: true, command: 'STAGE_POSITION_GET', reply: { name: 'STAGE_POSITION_GET', int32Data0: 2, status: 1 } });
    expect(sim.records.slice(before).map((r) => [r.name, r.int32Data0])).toEqual([['STAGE_POSITION_GET', 2]]);
  });

  it('after the broker goes away: last will offline, then reconnects and republishes; the instrument link is unaffected', async () => {
    const { broker, client, bridge, sub } = await setUp('scope3', makeBroker, version);
    await sub.next((m) => m.topic === 'flamingo/scope3/availability' && m.text === 'online');
    // The bridge's broker connection dies without a DISCONNECT: the broker sends the will.
    const mark = sub.messages.length;
    bridge.mqtt.stream.destroy();
    const will = await sub.next((m) => m.topic === 'flamingo/scope3/availability', 10_000, mark);
    expect(will.text).toBe('offline');
    await sub.next((m) => m.topic === 'flamingo/scope3/availability' && m.text === 'online', 10_000, mark);

    // The broker itself restarts (no persistence: retained messages are gone).
    await sub.close();
    await broker.stop();
    // The instrument connection does not care.
    expect((await client.request(Command.SYSTEM_STATE_GET)).code).toBe(Command.SYSTEM_STATE_GET);
    const back = new Promise<void>((resolve) => bridge.once('online', resolve));
    await broker.start();
    await back;
    const fresh = await Subscriber.connect(broker.url, ['flamingo/scope3/#'], version);
    cleanups.push(() => fresh.close());
    const retained = await fresh.next((m) => m.topic === 'flamingo/scope3/state');
    expect(retained.retain).toBe(true);
    expect((await fresh.next((m) => m.topic === 'flamingo/scope3/availability')).text).toBe('online');
  });
});

describe('MQTT bridge event coalescing', () => {
  it('a gauge flood becomes the first value at once and the last one after the interval', async () => {
    const broker = await aedesBroker();
    cleanups.push(() => broker.dispose());
    const [ours, theirs] = createMemoryPair();
    const client = await FlamingoClient.connect({ mode: 'lease', transport: () => ours });
    cleanups.push(() => client.close());
    const bridge = await MqttBridge.start(client, { url: broker.url, name: 'g', gaugeIntervalMs: 100 });
    cleanups.push(() => bridge.close());
    const sub = await Subscriber.connect(broker.url, ['flamingo/g/events/#'], 4);
    cleanups.push(() => sub.close());
    for (let i = 1; i <= 100; i++) await theirs.write(encodePacket({ code: Command.UI_SET_GAUGE_VALUE, status: 1, int32Data0: i, int32Data1: 100 }));
    const last = await sub.next((m) => JSON.parse(m.text).int32Data0 === 100);
    const gauges = sub.messages.map((m) => JSON.parse(m.text) as { int32Data0: number; coalesced?: number });
    expect(gauges[0]).toMatchObject({ int32Data0: 1 });
    expect(gauges.length).toBeLessThan(10);
    expect(JSON.parse(last.text).coalesced).toBeGreaterThan(1);
  });
});
