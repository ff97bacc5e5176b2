/**
 * An IdGenerator that hands the SDK the ids our trace model derived (see src/model/ids.ts), so the
 * SDK builds and exports the span while its identity stays a function of the session.
 */
import { RandomIdGenerator, type IdGenerator } from '@opentelemetry/sdk-trace-base';

export class PresetIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private nextTrace: string | undefined;
  private nextSpan: string | undefined;

  /** The ids the next `startSpan` call will receive. */
  preset(traceId: string, spanId: string) {
    this.nextTrace = traceId;
    this.nextSpan = spanId;
  }

  generateTraceId(): string {
    const id = this.nextTrace ?? this.random.generateTraceId();
    this.nextTrace = undefined;
    return id;
  }

  generateSpanId(): string {
    const id = this.nextSpan ?? this.random.generateSpanId();
    this.nextSpan = undefined;
    return id;
  }
}
