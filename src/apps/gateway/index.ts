export { FlamingoGateway, DEFAULT_GATEWAY_PORT } from './gateway.js';
export type { GatewayOptions, GatewayAddress, GatewaySessionInfo, GatewayStats, GatewayEvents } from './gateway.js';
export type { SessionEnd } from './downstream-session.js';
export { GatewayCommand, encodeGatewayHello, connectGateway, withGatewayLease } from './extension.js';
export type { ConnectGatewayOptions } from './extension.js';
export { READ_ONLY_COMMANDS, readOnlyAllows, isLoopbackHost } from './access.js';
export { LeaseBroker } from './lease-broker.js';
export { LiveRelay } from './live-relay.js';
export type { LiveRelayOptions, LiveRelayEvents } from './live-relay.js';
