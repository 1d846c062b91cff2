import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import { AppError, badRequest } from '../../lib/errors';

/*
 * Streams the one file field of a multipart/form-data request. busboy enforces the size limit
 * while parsing; the caller gets the first bytes (for sniffing) and a Readable of the whole file
 * that fails, rather than ends, when the file was cut at the limit or the client went away — so
 * the storage driver discards the partial object instead of committing it.
 */

// Boundaries, part headers and small fields around the file.
const MULTIPART_OVERHEAD = 64 * 1024;

export const payloadTooLarge = (maxBytes: number) =>
  new AppError(413, 'payload_too_large', `The file is larger than ${maxBytes} bytes`, { maxBytes }, { Connection: 'close' });

export interface IncomingFile {
  /** At least `headBytes` leading bytes (fewer only when the file is shorter). */
  head: Buffer;
  /** The whole file, head included. */
  source: Readable;
  /** Discards the rest of the file (when it is refused after sniffing). */
  discard(): void;
}

export interface ReceiveOptions {
  field: string;
  maxBytes: number;
  headBytes: number;
}

export function receiveSingleFile<T>(
  req: IncomingMessage,
  options: ReceiveOptions,
  handle: (file: IncomingFile) => Promise<T>,
): Promise<T> {
  const { field, maxBytes, headBytes } = options;
  if (!/^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '')) {
    return Promise.reject(new AppError(415, 'multipart_required', `Send the file as multipart/form-data in the field "${field}"`));
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD) {
    return Promise.reject(payloadTooLarge(maxBytes));
  }
  let parser: busboy.Busboy;
  try {
    // busboy flags a file as truncated once it reaches the limit, so allow one byte more: a file of
    // exactly maxBytes passes, anything longer is flagged.
    parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes + 1, fields: 20, fieldSize: 1024, parts: 40 } });
  } catch (error) {
    return Promise.reject(badRequest('malformed_multipart', `Malformed multipart request: ${(error as Error).message}`));
  }

  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let handling: Promise<void> | undefined;
    let current: Readable | undefined;
    let failure: AppError | undefined;
    const settle = (error: unknown, value?: T) => {
      if (settled) return;
      settled = true;
      if (error) {
        // Stop parsing; whatever the client still sends is read and dropped.
        req.unpipe(parser);
        req.resume();
        reject(error);
      } else resolve(value as T);
    };
    // Fails the file being stored; the answer waits for the driver to discard what it had written.
    const abort = (reason: AppError) => {
      failure ??= reason;
      if (current && !current.destroyed) current.destroy(reason);
      if (!handling) settle(failure);
    };

    parser.on('file', (name, stream) => {
      if (name !== field || handling) {
        stream.resume();
        return;
      }
      current = stream;
      handling = readHead(stream, headBytes, maxBytes)
        .then(({ head, rest }) =>
          handle({
            head,
            source: Readable.from(rest, { objectMode: false }),
            discard: () => stream.resume(),
          }),
        )
        .then(
          (value) => settle(undefined, value),
          (error) => settle(failure ?? error),
        );
    });
    parser.on('error', (error: Error) => abort(badRequest('malformed_multipart', `Malformed multipart request: ${error.message}`)));
    parser.on('close', () => {
      if (!handling) settle(badRequest('file_required', `The multipart field "${field}" with a file is required`));
    });
    // The client went away mid-upload (possibly already, while the session was being loaded).
    const onClose = () => {
      if (!req.complete) abort(badRequest('request_aborted', 'The upload was aborted'));
    };
    if (req.destroyed) onClose();
    else req.on('close', onClose);
    if (!settled) req.pipe(parser);
  });
}

type FileStream = Readable & { truncated?: boolean };

/** Reads until `headBytes` are in hand, then hands back the head and an iterable of the whole file. */
async function readHead(stream: FileStream, headBytes: number, maxBytes: number) {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < headBytes) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    chunks.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (!ended) {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    }
    // busboy ends (rather than fails) a file cut at the limit and flags it.
    if (stream.truncated) throw payloadTooLarge(maxBytes);
  }
  return { head, rest: rest() };
}
