/**
 * Validation of a NATS server URL given by a user (flag, env, options), once, at the edge.
 */
import { NatsUrlError } from './errors.js';

/**
 * Check `url` and return it in the form nats.js expects (`host:port` or `nats://host:port`,
 * comma-separated for several servers). Throws NatsUrlError naming the bad value.
 */
export function resolveNatsServers(url: string, where = 'NATS url'): string[] {
  const parts = url.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new NatsUrlError(`${where} is empty`, { url });
  for (const p of parts) {
    const withScheme = /^[a-z]+:\/\//i.test(p) ? p : `nats://${p}`;
    let u: URL;
    try {
      u = new URL(withScheme);
    } catch {
      throw new NatsUrlError(`${where} '${p}' is not a valid URL (expected nats://host:port)`, { url: p });
    }
    if (!['nats:', 'tls:'].includes(u.protocol)) {
      throw new NatsUrlError(`${where} '${p}' has scheme '${u.protocol.replace(':', '')}', expected nats:// or tls://`, { url: p });
    }
    if (!u.hostname) throw new NatsUrlError(`${where} '${p}' has no host`, { url: p });
  }
  return parts;
}
