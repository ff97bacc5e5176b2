import { z } from 'zod';

/**
 * OTLP/HTTP JSON request bodies (ExportTraceServiceRequest, ExportLogsServiceRequest).
 * Loose objects: unknown fields pass through. Ids are hex (OTLP/JSON), times are uint64
 * nanoseconds as strings or numbers, enums are integers.
 */

const nanos = z.union([z.string().regex(/^\d{1,20}$/), z.number().int().nonnegative()]);

export type AnyValue = {
  stringValue?: string | undefined;
  boolValue?: boolean | undefined;
  intValue?: string | number | undefined;
  doubleValue?: number | string | undefined;
  bytesValue?: string | undefined;
  arrayValue?: { values?: AnyValue[] | undefined } | undefined;
  kvlistValue?: { values?: KeyValue[] | undefined } | undefined;
};
export type KeyValue = { key: string; value?: AnyValue | undefined };

export const anyValueSchema: z.ZodType<AnyValue> = z.lazy(() =>
  z.looseObject({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: z.union([z.string().regex(/^-?\d+$/), z.number().int()]).optional(),
    doubleValue: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]).optional(),
    bytesValue: z.string().optional(),
    arrayValue: z.looseObject({ values: z.array(anyValueSchema).optional() }).optional(),
    kvlistValue: z.looseObject({ values: z.array(keyValueSchema).optional() }).optional(),
  }),
);
export const keyValueSchema: z.ZodType<KeyValue> = z.lazy(() =>
  z.looseObject({ key: z.string(), value: anyValueSchema.optional() }),
);

const attributes = z.array(keyValueSchema).optional();
export const resourceSchema = z.looseObject({ attributes }).optional();
export const scopeSchema = z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional();
const resource = resourceSchema;
const scope = scopeSchema;

const spanEventSchema = z.looseObject({
  timeUnixNano: nanos.optional(),
  name: z.string(),
  attributes,
});

export const otlpSpanSchema = z.looseObject({
  traceId: z.string(),
  spanId: z.string(),
  parentSpanId: z.string().optional(),
  name: z.string(),
  kind: z.number().int().optional(),
  startTimeUnixNano: nanos,
  endTimeUnixNano: nanos.optional(),
  attributes,
  events: z.array(spanEventSchema).optional(),
  status: z.looseObject({ code: z.number().int().optional(), message: z.string().optional() }).optional(),
});

export const traceRequestSchema = z.looseObject({
  resourceSpans: z
    .array(
      z.looseObject({
        resource,
        scopeSpans: z.array(z.looseObject({ scope, spans: z.array(otlpSpanSchema).optional() })).optional(),
      }),
    )
    .optional(),
});

export const otlpLogRecordSchema = z.looseObject({
  timeUnixNano: nanos.optional(),
  observedTimeUnixNano: nanos.optional(),
  severityNumber: z.number().int().optional(),
  severityText: z.string().optional(),
  eventName: z.string().optional(),
  body: anyValueSchema.optional(),
  attributes,
  traceId: z.string().optional(),
  spanId: z.string().optional(),
});

export const logsRequestSchema = z.looseObject({
  resourceLogs: z
    .array(
      z.looseObject({
        resource,
        scopeLogs: z.array(z.looseObject({ scope, logRecords: z.array(otlpLogRecordSchema).optional() })).optional(),
      }),
    )
    .optional(),
});

/**
 * The envelopes only: records, resources and scopes stay `unknown` here and are validated one
 * by one (src/sink/validate.ts), so one bad record cannot fail the whole request.
 */
export const traceEnvelopeSchema = z.looseObject({
  resourceSpans: z
    .array(
      z.looseObject({
        resource: z.unknown().optional(),
        scopeSpans: z.array(z.looseObject({ scope: z.unknown().optional(), spans: z.array(z.unknown()).optional() })).optional(),
      }),
    )
    .optional(),
});
export const logsEnvelopeSchema = z.looseObject({
  resourceLogs: z
    .array(
      z.looseObject({
        resource: z.unknown().optional(),
        scopeLogs: z.array(z.looseObject({ scope: z.unknown().optional(), logRecords: z.array(z.unknown()).optional() })).optional(),
      }),
    )
    .optional(),
});
export type TraceEnvelope = z.infer<typeof traceEnvelopeSchema>;
export type LogsEnvelope = z.infer<typeof logsEnvelopeSchema>;

export type OtlpSpan = z.infer<typeof otlpSpanSchema>;
export type OtlpLogRecord = z.infer<typeof otlpLogRecordSchema>;
export type TraceRequest = z.infer<typeof traceRequestSchema>;
export type LogsRequest = z.infer<typeof logsRequestSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseWith<T>(schema: z.ZodType<T>, body: unknown): ParseResult<T> {
  const r = schema.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  const first = r.error.issues[0];
  return { ok: false, error: first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid body' };
}

export const parseTraceRequest = (body: unknown) => parseWith(traceRequestSchema, body);
export const parseLogsRequest = (body: unknown) => parseWith(logsRequestSchema, body);
export const parseTraceEnvelope = (body: unknown) => parseWith(traceEnvelopeSchema, body);
export const parseLogsEnvelope = (body: unknown) => parseWith(logsEnvelopeSchema, body);
