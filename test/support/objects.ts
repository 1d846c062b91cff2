import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type supertest from 'supertest';
import type { TestApp } from './app';
import { openStore } from './catalogue';
import type { SignedInUser } from './users';

/** A PNG signature, an IHDR chunk and one IDAT chunk of random bytes: sniffed as image/png (size ≥ 45). */
export function pngBytes(size: number): Buffer {
  return Buffer.concat([pngHeader(size), randomBytes(size - 45), Buffer.alloc(4)]);
}

/** The first 41 bytes of a `pngBytes(size)` file: signature, IHDR, and the IDAT chunk header spanning the rest. */
export function pngHeader(size: number): Buffer {
  const signatureAndIhdr = Buffer.from('89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61', 'hex');
  const idat = Buffer.alloc(8);
  idat.writeUInt32BE(size - 45, 0);
  idat.write('IDAT', 4, 'latin1');
  return Buffer.concat([signatureAndIhdr, idat]);
}

/** A minimal PDF header followed by random bytes. */
export function pdfBytes(size: number): Buffer {
  const header = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');
  return Buffer.concat([header, randomBytes(Math.max(0, size - header.length))]);
}

/** A signed-in vendor, made the way a user becomes one: by opening a store. */
export function registerVendor(t: TestApp): Promise<SignedInUser> {
  return openStore(t.request);
}

export function upload(
  t: TestApp,
  user: SignedInUser | undefined,
  bytes: Buffer,
  options: { visibility?: string; filename?: string; contentType?: string } = {},
): supertest.Test {
  const query = options.visibility ? `?visibility=${options.visibility}` : '';
  const req = t.request.post(`/api/uploads${query}`);
  if (user) req.set('Cookie', user.cookie);
  return req.attach('file', bytes, { filename: options.filename ?? 'photo.png', contentType: options.contentType ?? 'image/png' });
}

/** Makes supertest hand back the raw body as a Buffer, whatever the content type. */
export function binary(res: supertest.Response, done: (error: Error | null, body: Buffer) => void) {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}

/**
 * Starts a multipart upload announcing `declared` bytes, sends the first `sent` bytes of a PNG,
 * then drops the connection.
 */
export function abortUploadMidway(baseUrl: string, cookie: string, declared: number, sent: number): Promise<void> {
  const boundary = 'aborted-upload';
  const preamble = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n`,
  );
  return new Promise((resolve) => {
    const req = http.request(`${baseUrl}/api/uploads?visibility=private`, {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': declared },
    });
    req.on('error', () => resolve());
    req.write(Buffer.concat([preamble, pngBytes(declared).subarray(0, sent)]), () => {
      req.destroy();
      resolve();
    });
  });
}
