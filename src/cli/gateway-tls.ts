import fs from 'node:fs';
import { InvalidArgumentError, type Command as CliProgram } from 'commander';
import type { ClientTlsOptions, GatewayTlsOptions } from '../apps/gateway/tls.js';

/** The TLS options of `flamingo gateway`. */
export interface GatewayTlsCliOptions {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

/** Add --tls-cert, --tls-key, --tls-ca. */
export function addGatewayTlsOptions(command: CliProgram): CliProgram {
  return command
    .option('--tls-cert <file.pem>', 'serve TLS with this certificate (with --tls-key)')
    .option('--tls-key <file.pem>', 'the private key of --tls-cert')
    .option('--tls-ca <file.pem>', 'require client certificates signed by this CA (mutual TLS)');
}

/** Read the PEM files; undefined without --tls-cert. A half-given pair is a usage error. */
export function gatewayTlsFromOptions(o: GatewayTlsCliOptions): GatewayTlsOptions | undefined {
  if (o.tlsCert === undefined && o.tlsKey === undefined) {
    if (o.tlsCa !== undefined) throw new InvalidArgumentError('--tls-ca needs --tls-cert and --tls-key');
    return undefined;
  }
  if (o.tlsCert === undefined || o.tlsKey === undefined) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
  return {
    cert: fs.readFileSync(o.tlsCert),
    key: fs.readFileSync(o.tlsKey),
    ...(o.tlsCa !== undefined ? { ca: fs.readFileSync(o.tlsCa) } : {}),
  };
}

/** The TLS options of a command that connects to a gateway (`send`, `watch`, `live`). */
export interface GatewayClientTlsCliOptions {
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** Add the client side of --tls-ca, --tls-cert, --tls-key: the same names as `flamingo gateway`, seen from the app. */
export function addGatewayClientTlsOptions(command: CliProgram): CliProgram {
  return command
    .option('--tls-ca <file.pem>', "connect with TLS, trusting this CA for the gateway's certificate")
    .option('--tls-cert <file.pem>', 'connect with TLS, presenting this client certificate (with --tls-key; for a gateway that requires one)')
    .option('--tls-key <file.pem>', 'the private key of --tls-cert');
}

/** Read the PEM files; undefined (plain TCP) without any of them. A half-given pair is a usage error. */
export function clientTlsFromOptions(o: GatewayClientTlsCliOptions): ClientTlsOptions | undefined {
  if (o.tlsCa === undefined && o.tlsCert === undefined && o.tlsKey === undefined) return undefined;
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
  return {
    ...(o.tlsCa !== undefined ? { ca: fs.readFileSync(o.tlsCa) } : {}),
    ...(o.tlsCert !== undefined && o.tlsKey !== undefined ? { cert: fs.readFileSync(o.tlsCert), key: fs.readFileSync(o.tlsKey) } : {}),
  };
}
