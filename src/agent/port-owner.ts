/**
 * Who holds the agent's port. Any local user may bind 127.0.0.1:<port> first; the http hooks then
 * send the token and raw payloads to that process while our agent exits (reliability review,
 * finding 2). This module reads the kernel's socket tables (/proc/net/tcp and tcp6: the listening
 * socket's uid and inode; inode -> pid by scanning /proc/<pid>/fd where we may read it), and
 * `listenOrExplain` turns an EADDRINUSE into a PortHeld error naming the holder, so the agent fails
 * loudly (log line, failed-start marker) instead of exiting 0. Used by the agent, doctor and install.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Server } from 'node:net';
import { currentUid } from '../shared/home.js';

export interface PortListener {
  address: string;
  port: number;
  uid: number;
  inode: number;
  pid?: number;
  command?: string;
}

export class PortHeld extends Error {
  constructor(message: string, readonly holder: PortListener | undefined, readonly foreign: boolean) {
    super(message);
    this.name = 'PortHeld';
  }
}

function ipv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
}

function ipv6(hex: string): string {
  // Four 32-bit words, each in host (little-endian) byte order.
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(Number.parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

/** Listening TCP sockets on `port` (any address), from /proc/net/tcp and tcp6; [] where there is no /proc. */
export function listenersOn(port: number, procRoot = '/proc'): PortListener[] {
  const found: PortListener[] = [];
  for (const [file, decode] of [['net/tcp', ipv4], ['net/tcp6', ipv6]] as const) {
    let text: string;
    try {
      text = readFileSync(`${procRoot}/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A = LISTEN
      const [addr, portHex] = f[1]!.split(':');
      if (Number.parseInt(portHex ?? '', 16) !== port) continue;
      found.push({ address: decode(addr!), port, uid: Number(f[7]), inode: Number(f[9]) });
    }
  }
  if (found.length) attachPids(found, procRoot);
  return found;
}

function attachPids(listeners: PortListener[], procRoot: string) {
  const byInode = new Map(listeners.map((l) => [`socket:[${l.inode}]`, l]));
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((n) => /^\d+$/.test(n));
  } catch {
    return;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${pid}/fd`);
    } catch {
      continue; // another user's process: its fds are not ours to read
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const l = byInode.get(target);
      if (!l || l.pid !== undefined) continue;
      l.pid = Number(pid);
      try {
        l.command = readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 200);
      } catch {
        /* gone */
      }
    }
  }
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** The listener that keeps `host:port` from us: one on that very address first, else a wildcard one. */
export function holderOf(host: string, port: number, procRoot = '/proc'): PortListener | undefined {
  const all = listenersOn(port, procRoot);
  const want = host === 'localhost' ? ['127.0.0.1', '::1'] : [host.replace(/^\[|\]$/g, '')];
  return all.find((l) => want.includes(l.address) || want.includes(l.address.replace(/^::ffff:/, ''))) ?? all.find((l) => WILDCARDS.has(l.address)) ?? all[0];
}

export function describeHolder(h: PortListener): string {
  return `uid ${h.uid}${h.pid !== undefined ? `, pid ${h.pid}` : ''}${h.command ? ` (${h.command})` : ''}`;
}

/** Listens, or throws PortHeld naming who holds the port (foreign = another uid than ours). */
export function listenOrExplain(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') return reject(err);
      const holder = holderOf(host, port);
      const foreign = holder !== undefined && holder.uid !== currentUid();
      const who = holder ? describeHolder(holder) : 'a process we cannot identify';
      reject(new PortHeld(`port ${host}:${port} is held by ${who}${foreign ? ': ANOTHER USER; http hooks would send it the token and payloads. Stop that process, pick another agent.port, or run `claude-otel install --transport durable`' : ''}`, holder, foreign));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
