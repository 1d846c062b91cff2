import type { IncomingHttpHeaders } from 'node:http';
import fresh from 'fresh';
import parseRange from 'range-parser';

/*
 * The decisions of the `send` module (what express.static uses), step for step, so a CDN or a
 * video player sees the same answers from us as from a static file server:
 * preconditions (If-Match / If-Unmodified-Since → 412), freshness (If-None-Match /
 * If-Modified-Since → 304), then `bytes=` ranges parsed with range-parser `{combine: true}`:
 * unsatisfiable → 416, exactly one range → 206, several or malformed → full 200; a stale If-Range
 * (ETag or date) means a full 200.
 */

export interface Validators {
  size: number;
  /** Strong ETag, quoted. */
  etag: string;
  /** HTTP date (`toUTCString()`). */
  lastModified: string;
}

export interface ByteRange {
  start: number;
  end: number;
}

export type DownloadPlan =
  | { kind: 'precondition-failed' }
  | { kind: 'not-modified' }
  | { kind: 'unsatisfiable'; contentRange: string }
  | { kind: 'send'; status: 200 | 206; contentLength: number; contentRange?: string; range?: ByteRange };

const BYTES_RANGE = /^ *bytes=/;

export function planDownload(headers: IncomingHttpHeaders, object: Validators): DownloadPlan {
  const isConditional = headers['if-match'] || headers['if-unmodified-since'] || headers['if-none-match'] || headers['if-modified-since'];
  if (isConditional) {
    if (isPreconditionFailure(headers, object)) return { kind: 'precondition-failed' };
    if (fresh(headers, { etag: object.etag, 'last-modified': object.lastModified })) return { kind: 'not-modified' };
  }

  const size = object.size;
  const rangeHeader = headers.range;
  if (rangeHeader && BYTES_RANGE.test(rangeHeader)) {
    let ranges = parseRange(size, rangeHeader, { combine: true });
    if (!isRangeFresh(headers, object)) ranges = -2;
    if (ranges === -1) return { kind: 'unsatisfiable', contentRange: `bytes */${size}` };
    if (ranges !== -2 && ranges.length === 1) {
      const { start, end } = ranges[0]!;
      return {
        kind: 'send',
        status: 206,
        contentLength: end - start + 1,
        contentRange: `bytes ${start}-${end}/${size}`,
        range: { start, end },
      };
    }
  }
  return { kind: 'send', status: 200, contentLength: size };
}

function isPreconditionFailure(headers: IncomingHttpHeaders, object: Validators): boolean {
  const match = headers['if-match'];
  if (match) {
    const etag = object.etag;
    return match !== '*' && parseTokenList(match).every((m) => m !== etag && m !== `W/${etag}` && `W/${m}` !== etag);
  }
  const unmodifiedSince = parseHttpDate(headers['if-unmodified-since'] as string | undefined);
  if (!Number.isNaN(unmodifiedSince)) {
    const lastModified = parseHttpDate(object.lastModified);
    return Number.isNaN(lastModified) || lastModified > unmodifiedSince;
  }
  return false;
}

function isRangeFresh(headers: IncomingHttpHeaders, object: Validators): boolean {
  const ifRange = headers['if-range'] as string | undefined;
  if (!ifRange) return true;
  if (ifRange.includes('"')) return ifRange.includes(object.etag);
  return parseHttpDate(object.lastModified) <= parseHttpDate(ifRange);
}

function parseHttpDate(date: string | undefined): number {
  return date ? Date.parse(date) : Number.NaN;
}

/** Comma-separated tokens, as `send` splits If-Match. */
function parseTokenList(value: string): string[] {
  return value
    .split(',')
    .map((token) => token.trim())
    .filter(Boolean);
}
