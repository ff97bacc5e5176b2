/**
 * A loopback TCP port for another process to listen on (the demo's agent; in tests and benches,
 * collectors, Jaeger, sinks). Not one the kernel would pick itself (`listen(0)`): those come from
 * the ephemeral range (net.ipv4.ip_local_port_range), the same range every outgoing connection
 * takes its source port from, so between our check and the other process's bind any connection
 * (Jaeger dialling its own storage, say) can take it. A port below that range is taken only by a
 * listener, and we check there is none. Ports this process handed out are not handed out again.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;
const handedOut = new Set<number>();

/** The first port of the kernel's ephemeral range (Linux; elsewhere the IANA range's start). Read once. */
const ephemeralStart = ((): number => {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 0) return first;
  } catch {
    /* not Linux */
  }
  return 49_152;
})();

function listenable(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, host, () => {
      const address = server.address();
      const got = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(got));
    });
  });
}

/** A port on `host` that no one listens on now, outside the ephemeral range where there is room. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const highest = ephemeralStart - 1;
  if (highest - LOWEST >= 1_000) {
    for (let tries = 0; tries < 200; tries++) {
      const port = LOWEST + Math.floor(Math.random() * (highest - LOWEST + 1));
      if (handedOut.has(port)) continue;
      if ((await listenable(port, host)) === port) {
        handedOut.add(port);
        return port;
      }
    }
  }
  // No room below the ephemeral range (or all of it taken): the kernel's pick.
  for (let tries = 0; tries < 200; tries++) {
    const port = await listenable(0, host);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port on ${host}`);
}
