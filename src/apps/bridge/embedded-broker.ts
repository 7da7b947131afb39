import net from 'node:net';

/** An in-process MQTT broker (aedes) for one machine with nothing to install. */
export interface EmbeddedBroker {
  /** `mqtt://host:port` to hand to clients. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Start aedes on host:port (default 127.0.0.1, port 1883; 0 picks a free one). */
export async function startEmbeddedBroker(options: { host?: string; port?: number } = {}): Promise<EmbeddedBroker> {
  // Loaded on use: importing the package must not load a broker nobody asked for.
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 1883, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((r) => broker.close(() => r()));
    throw error;
  }
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => broker.close(() => resolve()));
      }),
  };
}
