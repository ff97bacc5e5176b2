/**
 * The OTLP/HTTP exporter options from the effective config, as the OTel SDK takes them: headers as
 * its async headers factory (otlp-headers.ts), `compression` (gzip by default, none to a loopback
 * endpoint: a local collector gains nothing from it and the agent pays CPU per span), and for https the
 * CA, client certificate and key as `httpAgentOptions` (the SDK builds its https.Agent from them).
 * The PEM files are read once, at start: a missing or unreadable file stops the start with its name.
 */
import { readFileSync } from 'node:fs';
import { CompressionAlgorithm, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { isLoopbackHost, type Config } from '../config/schema.js';
import type { HeaderSource } from './otlp-headers.js';

export class ExportTlsError extends Error {}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ExportTlsError(`export.tls.${what} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export function readTlsMaterial(tls: Config['export']['tls']): TlsMaterial {
  if (!tls) return {};
  return {
    ...(tls.caFile ? { ca: readPem(tls.caFile, 'caFile') } : {}),
    ...(tls.certFile ? { cert: readPem(tls.certFile, 'certFile') } : {}),
    ...(tls.keyFile ? { key: readPem(tls.keyFile, 'keyFile') } : {}),
  };
}

/** Whether to gzip exports to `url` (`auto`: unless its host is a loopback address or localhost). */
export function gzipFor(compression: Config['export']['compression'], url: string | undefined): boolean {
  if (compression !== 'auto') return compression === 'gzip';
  try {
    return !isLoopbackHost(new URL(url ?? '').hostname);
  } catch {
    return true;
  }
}

export function otlpExporterOptions(config: Config, url: string | undefined, headers: HeaderSource, tls: TlsMaterial): OTLPExporterNodeConfigBase {
  const e = config.export;
  return {
    ...(url ? { url } : {}),
    headers: () => headers.headers(),
    timeoutMillis: e.exportTimeoutMs,
    compression: gzipFor(e.compression, url) ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
    // Applied to https only (the SDK leaves ca/cert/key out of a plain http agent).
    httpAgentOptions: { keepAlive: true, ...tls },
  };
}
