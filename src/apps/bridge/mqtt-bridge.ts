import { SafeEmitter } from '../../../transports/safe-emitter.js';
import type { IClientOptions, MqttClient } from 'mqtt';
import { Command, commandName } from '../../../protocol/commands.js';
import type { Packet } from '../../../protocol/packet.js';
import type { FlamingoClient } from '../../client/client.js';
import { LatestPerInterval } from './rate-limit.js';
import { bridgeTopics, packetMessage, parseBridgeRequest, replyAddressInBody, type BridgePolicy, type BridgeTopics } from './topics.js';

/** Options of {@link MqttBridge.start}. */
export interface MqttBridgeOptions {
  /** Broker URL: mqtt://, mqtts://, ws://, wss:// (mqtt.js). */
  url: string;
  /** This instrument's topic level: `flamingo/<name>/…`. */
  name: string;
  /** First topic level (default `flamingo`). */
  prefix?: string;
  /** Queries allowed (default false: read-only means nothing is sent to the instrument). */
  allowRead?: boolean;
  /** Action codes allowed (default none). */
  allow?: Iterable<number>;
  /** Retained state snapshots per second at most (default 2). */
  stateRateHz?: number;
  /** Gauge events (UI_SET_GAUGE_VALUE) are coalesced to one per this many ms (default 250). */
  gaugeIntervalMs?: number;
  /**
   * MQTT protocol version. Default: 5, and 4 (3.1.1) when the broker refuses 5 (aedes, the
   * embedded broker, speaks only 3.1.1). Under 3.1.1 the response topic and correlation
   * data travel in the request's JSON body.
   */
  protocolVersion?: 4 | 5;
  /** mqtt.js options: username, password, ca / cert / key / rejectUnauthorized for TLS, clientId, reconnectPeriod… */
  mqtt?: IClientOptions;
}

/** Events of {@link MqttBridge}. */
export type MqttBridgeEvents = {
  log: [line: string];
  /** Connected (again) to the broker and published availability and state. */
  online: [];
  /** A request from MQTT was answered (ok or error). */
  answered: [info: { name: string; ok: boolean; error?: string }];
};

/**
 * Publishes one FlamingoClient to an MQTT broker (README §MQTT bridge, docs/deployment.md):
 * availability (retained, last will `offline`), state (retained JSON, rate-limited), one
 * message per event (gauge floods coalesced), and MQTT v5 request/response for the
 * commands the policy allows. The instrument connection is the client's own: a broker
 * that goes away is reconnected by mqtt.js, and each connect republishes the retained
 * topics; nothing about the broker touches the instrument link.
 */
export class MqttBridge extends SafeEmitter<MqttBridgeEvents> {
  readonly topics: BridgeTopics;
  private readonly policy: BridgePolicy;
  private readonly state: LatestPerInterval<void>;
  private readonly gauges: LatestPerInterval<Packet>;
  private closed = false;

  private constructor(
    private readonly client: FlamingoClient,
    readonly mqtt: MqttClient,
    private readonly options: MqttBridgeOptions,
  ) {
    super();
    this.topics = bridgeTopics(options.name, options.prefix);
    this.policy = { allowRead: options.allowRead === true, allow: new Set(options.allow ?? []) };
    this.state = new LatestPerInterval(1000 / (options.stateRateHz ?? 2), () => this.publishState());
    this.gauges = new LatestPerInterval(options.gaugeIntervalMs ?? 250, (p, n) => this.publishEvent(p, n));
  }

  /** Connect to the broker (resolves on the first connect) and start publishing. */
  static async start(client: FlamingoClient, options: MqttBridgeOptions): Promise<MqttBridge> {
    try {
      return await MqttBridge.connectWith(client, options, options.protocolVersion ?? 5);
    } catch (error) {
      // CONNACK "unacceptable protocol version" (code 1): the broker speaks only 3.1.1.
      const refusedV5 = options.protocolVersion === undefined && ((error as Error).cause as { code?: number } | undefined)?.code === 1;
      if (!refusedV5) throw error;
      return MqttBridge.connectWith(client, options, 4);
    }
  }

  private static async connectWith(client: FlamingoClient, options: MqttBridgeOptions, protocolVersion: 4 | 5): Promise<MqttBridge> {
    const topics = bridgeTopics(options.name, options.prefix);
    // Loaded on use: importing the package must not load an MQTT client nobody asked for.
    const { connect } = await import('mqtt');
    const connection = connect(options.url, {
      protocolVersion,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      resubscribe: false,
      ...options.mqtt,
      will: { topic: topics.availability, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    const bridge = new MqttBridge(client, connection, options);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        connection.off('connect', onConnect);
        connection.end(true);
        reject(new Error(`cannot connect to the MQTT broker ${options.url}: ${error.message}`, { cause: error }));
      };
      const onConnect = () => {
        connection.off('error', onError);
        resolve();
      };
      connection.once('error', onError);
      connection.once('connect', onConnect);
    });
    bridge.wire();
    bridge.onConnect();
    return bridge;
  }

  /** Publish `offline`, stop, disconnect from the broker. The FlamingoClient stays open. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.state.stop();
    this.gauges.stop();
    this.client.off('event', this.onEvent);
    this.client.state.off('change', this.onState);
    if (this.mqtt.connected) await this.mqtt.publishAsync(this.topics.availability, 'offline', { qos: 1, retain: true }).catch(() => undefined);
    await this.mqtt.endAsync();
  }

  private wire(): void {
    this.client.on('event', this.onEvent);
    this.client.state.on('change', this.onState);
    this.mqtt.on('connect', () => {
      this.emit('log', 'MQTT broker connected again: availability and state republished');
      this.onConnect();
    });
    this.mqtt.on('offline', () => this.emit('log', 'MQTT broker unreachable; reconnecting'));
    this.mqtt.on('error', (error) => this.emit('log', `MQTT: ${error.message}`));
    this.mqtt.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.properties));
  }

  private onConnect(): void {
    void this.mqtt.publishAsync(this.topics.availability, 'online', { qos: 1, retain: true }).catch(() => undefined);
    this.publishState();
    this.mqtt.subscribe(this.topics.requestFilter, { qos: 1 });
    this.emit('online');
  }

  private readonly onState = (): void => this.state.push();

  private publishState(): void {
    if (this.closed || !this.mqtt.connected) return;
    const body = JSON.stringify({ time: new Date().toISOString(), ...this.client.state.snapshot() });
    this.mqtt.publish(this.topics.state, body, { qos: 1, retain: true });
  }

  private readonly onEvent = (packet: Packet): void => {
    if (packet.code === Command.UI_SET_GAUGE_VALUE) this.gauges.push(packet);
    else this.publishEvent(packet, 1);
  };

  private publishEvent(packet: Packet, coalesced: number): void {
    if (this.closed || !this.mqtt.connected) return;
    const body = { time: new Date().toISOString(), ...packetMessage(packet), ...(coalesced > 1 ? { coalesced } : {}) };
    this.mqtt.publish(this.topics.event(commandName(packet.code)), JSON.stringify(body), { qos: 0 });
  }

  /** The protocol version in use (5, or 4 with a broker that speaks only 3.1.1). */
  get protocolVersion(): 4 | 5 {
    return this.mqtt.options.protocolVersion === 5 ? 5 : 4;
  }

  private onMessage(topic: string, payload: Buffer, properties: { responseTopic?: string; correlationData?: Buffer } | undefined): void {
    const name = this.topics.requestName(topic);
    if (name === undefined) return;
    // MQTT v5 properties first; the JSON body's fields for 3.1.1 clients.
    const inBody = replyAddressInBody(payload);
    const responseTopic = properties?.responseTopic ?? inBody.responseTopic;
    const reply = (body: Record<string, unknown>) => {
      this.emit('answered', { name, ok: body.ok === true, ...(typeof body.error === 'string' ? { error: body.error } : {}) });
      if (responseTopic === undefined || this.closed) return;
      const correlationData = properties?.correlationData;
      const message = JSON.stringify(
        inBody.correlationData !== undefined && correlationData === undefined ? { ...body, correlationData: inBody.correlationData } : body,
      );
      this.mqtt.publish(responseTopic, message, {
        qos: 1,
        ...(correlationData !== undefined && this.protocolVersion === 5 ? { properties: { correlationData } } : {}),
      });
    };
    const parsed = parseBridgeRequest(name, payload, this.policy);
    if (!parsed.ok) {
      reply({ ok: false, command: name, error: parsed.error });
      return;
    }
    const r = parsed.request;
    const done = r.replies
      ? this.client
          .request(r.code, r.fields, r.timeoutMs !== undefined ? { timeoutMs: r.timeoutMs } : {})
          .then((p) => ({ ok: true, command: name, reply: packetMessage(p) }))
      : this.client.send(r.code, r.fields).then(() => ({ ok: true, command: name, sent: true }));
    done.then(reply, (error: Error) => reply({ ok: false, command: name, error: error.message }));
  }
}
