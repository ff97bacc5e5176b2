/**
 * Reads an OTLP/HTTP request body, decompressing gzip/deflate/br, bounded by maxBytes AFTER
 * decoding. The bound holds while decoding: as soon as the decoded size passes it, the
 * decompressor is destroyed (a 1 GiB gzip bomb costs ~maxBytes of inflating, not 1 GiB), and the
 * rest of the wire bytes are drained without decoding so the client still reads its 413.
 */
import type { IncomingMessage } from 'node:http';
import { type Zlib, createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';

type Decoder = Transform & Zlib;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** For 413 on a compressed body: decoded bytes seen and compressed bytes inflated before stopping. */
    readonly work?: { decodedBytes: number; inflatedInputBytes: number },
  ) {
    super(message);
  }
}

const DECODERS: Record<string, () => Decoder> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * Discards what is left of a refused body, up to `limit` more wire bytes; past that the
 * connection is dropped (a client that keeps sending after a 413 is not served further).
 */
export function drain(req: IncomingMessage, limit: number): void {
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > limit) req.destroy();
  });
  req.resume();
}

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  const identity = encoding === 'identity' || encoding === '';
  const make = identity ? undefined : DECODERS[encoding];
  if (!identity && !make) {
    drain(req, maxBytes);
    throw new HttpError(415, `unsupported content-encoding "${encoding}"`);
  }
  const declared = Number(req.headers['content-length']);
  if (identity && Number.isFinite(declared) && declared > maxBytes) {
    drain(req, maxBytes);
    throw new HttpError(413, `body larger than ${maxBytes} bytes`);
  }
  const decoder = make?.();
  const source: NodeJS.ReadableStream = decoder ? req.pipe(decoder) : req;
  // Event-based rather than for-await: leaving a for-await loop destroys the socket, and the
  // client should get its 413 rather than a reset.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      settled = true;
      chunks.length = 0;
      source.off('data', onData);
      let inflated = 0;
      if (decoder) {
        inflated = decoder.bytesWritten;
        req.unpipe(decoder);
        decoder.on('error', () => {});
        decoder.destroy();
      } else source.off('end', onEnd);
      drain(req, maxBytes);
      reject(
        new HttpError(
          413,
          `body larger than ${maxBytes} bytes${decoder ? ` after decoding (stopped after ${size} decoded bytes, ${inflated} compressed bytes inflated)` : ''}`,
          { decodedBytes: size, inflatedInputBytes: inflated },
        ),
      );
    };
    const onEnd = () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks));
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', (err: Error) => {
      if (settled) return;
      settled = true;
      if (decoder) req.unpipe(decoder);
      drain(req, maxBytes);
      reject(new HttpError(400, `cannot read body: ${err.message}`));
    });
    req.on('aborted', () => {
      if (settled) return;
      settled = true;
      reject(new HttpError(400, 'client aborted the request'));
    });
  });
}
