/**
 * A fault-injecting TCP proxy on loopback, owned by a test: clients connect to `address`, and
 * every connection is relayed to `target`. `blackhole()` makes it behave as a network partition
 * looks from both ends: every byte read from either side is silently dropped, nothing is closed
 * and nothing is refused (new connections are accepted and their bytes dropped too), and an end
 * or error on one side is not passed on. `heal()` relays again; a connection one side of which
 * closed during the partition is then reset on the other side too (as the peer's next segment
 * would be answered with a reset). Proxy lifecycle: 'open' <-> 'blackhole', then 'closed'.
 */
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

export type FaultProxyState = 'open' | 'blackhole' | 'closed';

export interface FaultProxyStats {
  /** Connections accepted so far. */
  connections: number;
  /** Bytes dropped while black-holed, client to target and target to client. */
  droppedToTarget: number;
  droppedToClient: number;
  /** Bytes relayed, client to target and target to client. */
  relayedToTarget: number;
  relayedToClient: number;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  /** A side ended or failed while black-holed: the other side is reset on heal. */
  brokenInPartition: boolean;
}

export class FaultProxy {
  private state: FaultProxyState = 'open';
  private readonly pairs = new Set<Pair>();
  private readonly counts: FaultProxyStats = { connections: 0, droppedToTarget: 0, droppedToClient: 0, relayedToTarget: 0, relayedToClient: 0 };

  private readonly server: Server;
  private host = '127.0.0.1';
  private port = 0;
  /** host:port clients connect to (set by `start`). */
  address = '';

  private constructor() {
    this.server = createServer((client) => this.accept(client));
  }

  /** Listen on 127.0.0.1 (a free port) and relay to `target` (host:port on loopback). */
  static async start(target: string): Promise<FaultProxy> {
    const m = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(target);
    if (!m) throw new Error(`FaultProxy relays to loopback only, not ${target}`);
    const proxy = new FaultProxy();
    proxy.host = m[1];
    proxy.port = Number(m[2]);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy.address = `127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
    return proxy;
  }

  get mode(): FaultProxyState {
    return this.state;
  }

  stats(): FaultProxyStats {
    return { ...this.counts };
  }

  /** Start dropping every byte in both directions; connections stay open. */
  blackhole(): void {
    if (this.state === 'closed') throw new Error('FaultProxy is closed');
    this.state = 'blackhole';
  }

  /** Relay again; connections with a side that closed during the partition are reset. */
  heal(): void {
    if (this.state === 'closed') throw new Error('FaultProxy is closed');
    this.state = 'open';
    for (const p of this.pairs) {
      if (p.brokenInPartition) this.drop(p);
    }
  }

  /** Stop listening and destroy every connection. */
  async close(): Promise<void> {
    this.state = 'closed';
    for (const p of this.pairs) this.drop(p);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.state === 'closed') {
      client.destroy();
      return;
    }
    this.counts.connections++;
    const upstream = new Socket();
    const pair: Pair = { client, upstream, brokenInPartition: false };
    this.pairs.add(pair);
    this.relay(pair, client, upstream, 'ToTarget');
    this.relay(pair, upstream, client, 'ToClient');
    upstream.connect(this.port, this.host);
  }

  /** Bytes from `from` go to `to` while open, and are counted and dropped while black-holed. */
  private relay(pair: Pair, from: Socket, to: Socket, dir: 'ToTarget' | 'ToClient'): void {
    from.on('data', (chunk: Buffer) => {
      if (this.state !== 'open') {
        this.counts[`dropped${dir}`] += chunk.length;
        return;
      }
      this.counts[`relayed${dir}`] += chunk.length;
      // The target side may still be connecting: net.Socket queues writes until it is.
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    const ended = (): void => {
      if (this.state === 'blackhole') pair.brokenInPartition = true;
      else this.drop(pair);
    };
    from.on('end', ended);
    from.on('error', ended);
    from.on('close', ended);
  }

  private drop(pair: Pair): void {
    this.pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
