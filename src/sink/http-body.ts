import type { IncomingMessage } from 'node:http';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** Reads a request body, decompressing gzip/deflate/br, bounded by maxBytes (after decoding). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  let source: NodeJS.ReadableStream = req;
  if (encoding !== 'identity' && encoding !== '') {
    const make = DECODERS[encoding];
    if (!make) {
      req.resume();
      throw new HttpError(415, `unsupported content-encoding "${encoding}"`);
    }
    source = req.pipe(make());
  }
  // Event-based rather than for-await: leaving a for-await loop destroys the socket, and the
  // client should get its 413 rather than a reset.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    source.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    source.on('end', () => {
      if (tooLarge) reject(new HttpError(413, `body larger than ${maxBytes} bytes`));
      else resolve(Buffer.concat(chunks));
    });
    source.on('error', (err: Error) => reject(new HttpError(400, `cannot read body: ${err.message}`)));
  });
}
