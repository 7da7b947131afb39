export { MqttBridge } from './mqtt-bridge.js';
export type { MqttBridgeOptions, MqttBridgeEvents } from './mqtt-bridge.js';
export { startEmbeddedBroker } from './embedded-broker.js';
export type { EmbeddedBroker } from './embedded-broker.js';
export { bridgeTopics, parseBridgeRequest, parseAllowList, packetMessage } from './topics.js';
export type { BridgeTopics, BridgePolicy, BridgeRequest } from './topics.js';
export { LatestPerInterval } from './rate-limit.js';
