/**
 * How `send`, `watch` and `live` reach a gateway that wants its token (spec/protocol.md,
 * "Gateway access token"): `--token` and the client TLS options, turned into the options of
 * `connectGateway`, which writes the GATEWAY_HELLO before anything else.
 */
import { InvalidArgumentError, type Command as CliProgram } from 'commander';
import { tokenBytes } from '../apps/gateway/access.js';
import type { ClientTlsOptions } from '../apps/gateway/tls.js';
import { addGatewayClientTlsOptions, clientTlsFromOptions, type GatewayClientTlsCliOptions } from './gateway-tls.js';
import { UsageError } from './options.js';

/** `--token` and the client TLS options as commander hands them over. */
export interface GatewayClientCliOptions extends GatewayClientTlsCliOptions {
  token?: string;
}

/** What `connectGateway` needs besides host and port: spread into its options. */
export interface GatewayAccess {
  token?: string;
  tls?: ClientTlsOptions;
}

/**
 * A gateway sends nothing back for a hello without the callback flag; a wrong or missing
 * token shows only as the connection being closed (spec/protocol.md, "Gateway access token").
 */
export const GATEWAY_REFUSED = 'the gateway closed the connection: wrong or missing --token?';

/** The token as the gateway takes it (1..72 UTF-8 bytes, no NUL), checked when parsed: a bad one is exit 64. */
function tokenOption(text: string): string {
  try {
    tokenBytes(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return text;
}

/** Add --token, --tls-ca, --tls-cert and --tls-key. */
export function addGatewayClientOptions(command: CliProgram): CliProgram {
  return addGatewayClientTlsOptions(command.option('--token <token>', "a gateway's access token, sent first (GATEWAY_HELLO) on every connection", tokenOption));
}

/**
 * The token and TLS options to connect with.
 * @throws UsageError when a PEM file cannot be read or --tls-cert comes without --tls-key.
 */
export function gatewayAccessFromOptions(o: GatewayClientCliOptions): GatewayAccess {
  let tls: ClientTlsOptions | undefined;
  try {
    tls = clientTlsFromOptions(o);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(error.message);
    const e = error as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${e.path ?? 'a TLS file'}: ${e.code ?? e.message}`);
  }
  return { ...(o.token !== undefined ? { token: o.token } : {}), ...(tls !== undefined ? { tls } : {}) };
}
