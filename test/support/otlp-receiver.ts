/** A minimal OTLP/HTTP JSON receiver for tests: records spans, log records and metric points as flat objects. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  status: { code?: number; message?: string };
  resource: Record<string, unknown>;
  links?: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
}

export interface ReceivedLog {
  traceId?: string;
  spanId?: string;
  eventName?: string;
  attributes: Record<string, unknown>;
  body?: unknown;
}

/** One data point of a received metric, with its metric's name, scope and resource. */
export interface ReceivedMetricPoint {
  name: string;
  scope: string;
  resource: Record<string, unknown>;
  attributes: Record<string, unknown>;
  /** Sum/gauge value, or a histogram's sum. */
  value: number;
  /** A histogram's count. */
  count?: number;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: AnyValue[] } };
type KeyValue = { key: string; value: AnyValue };

function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

export const attrs = (list: KeyValue[] | undefined): Record<string, unknown> => Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));

const toHex = (id: string | undefined) => (id && /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : id ? Buffer.from(id, 'base64').toString('hex') : undefined);

export async function startOtlpReceiver(options: { failWith?: () => number | undefined } = {}) {
  const spans: ReceivedSpan[] = [];
  const logs: ReceivedLog[] = [];
  const metrics: ReceivedMetricPoint[] = [];
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      const status = options.failWith?.();
      if (status) {
        res.writeHead(status).end();
        return;
      }
      const raw = Buffer.concat(chunks);
      const decoded = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw; // the agent sends gzip by default
      const body = JSON.parse(decoded.toString('utf8') || '{}') as Record<string, unknown[]>;
      if (req.url?.startsWith('/v1/traces')) {
        for (const rs of (body.resourceSpans ?? []) as { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[]) {
          const resource = attrs(rs.resource?.attributes);
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              const parent = toHex(s.parentSpanId as string | undefined);
              spans.push({
                traceId: toHex(s.traceId as string)!, spanId: toHex(s.spanId as string)!, ...(parent ? { parentSpanId: parent } : {}),
                name: s.name as string,
                startMs: Number(BigInt(s.startTimeUnixNano as string) / 1000n) / 1000,
                endMs: Number(BigInt(s.endTimeUnixNano as string) / 1000n) / 1000,
                attributes: attrs(s.attributes as KeyValue[]),
                events: ((s.events ?? []) as { name: string; attributes?: KeyValue[] }[]).map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
                status: (s.status ?? {}) as ReceivedSpan['status'],
                resource,
                ...(Array.isArray(s.links) && s.links.length
                  ? { links: (s.links as { traceId: string; spanId: string; attributes?: KeyValue[] }[]).map((l) => ({ traceId: toHex(l.traceId)!, spanId: toHex(l.spanId)!, attributes: attrs(l.attributes) })) }
                  : {}),
              });
            }
          }
        }
      } else if (req.url?.startsWith('/v1/metrics')) {
        type Point = { attributes?: KeyValue[]; asDouble?: number; asInt?: string | number; sum?: number; count?: string | number };
        type Metric = { name: string; sum?: { dataPoints?: Point[] }; gauge?: { dataPoints?: Point[] }; histogram?: { dataPoints?: Point[] } };
        for (const rm of (body.resourceMetrics ?? []) as { resource?: { attributes?: KeyValue[] }; scopeMetrics?: { scope?: { name?: string }; metrics?: Metric[] }[] }[]) {
          const resource = attrs(rm.resource?.attributes);
          for (const sm of rm.scopeMetrics ?? []) {
            for (const m of sm.metrics ?? []) {
              for (const p of m.sum?.dataPoints ?? m.gauge?.dataPoints ?? []) {
                metrics.push({ name: m.name, scope: sm.scope?.name ?? '', resource, attributes: attrs(p.attributes), value: p.asDouble ?? Number(p.asInt ?? NaN) });
              }
              for (const p of m.histogram?.dataPoints ?? []) {
                metrics.push({ name: m.name, scope: sm.scope?.name ?? '', resource, attributes: attrs(p.attributes), value: p.sum ?? NaN, count: Number(p.count ?? NaN) });
              }
            }
          }
        }
      } else if (req.url?.startsWith('/v1/logs')) {
        for (const rl of (body.resourceLogs ?? []) as { scopeLogs?: { logRecords?: Record<string, unknown>[] }[] }[]) {
          for (const sl of rl.scopeLogs ?? []) {
            for (const l of sl.logRecords ?? []) {
              const traceId = toHex(l.traceId as string | undefined);
              const spanId = toHex(l.spanId as string | undefined);
              logs.push({
                ...(traceId ? { traceId } : {}), ...(spanId ? { spanId } : {}),
                ...(l.eventName ? { eventName: l.eventName as string } : {}),
                attributes: attrs(l.attributes as KeyValue[]), body: l.body,
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    logs,
    metrics,
    requests: () => requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
