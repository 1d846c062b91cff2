import { z } from 'zod';

/*
 * Every string a client sends goes through one of these. Control characters are refused as a
 * 400: Postgres text cannot hold NUL (it would be a database error), and the rest only serve to
 * forge log lines, mail headers or look-alike names.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const ANY_CONTROL = /[\u0000-\u001f\u007f]/;
// Tab, line feed and carriage return are how multi-line text is written.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL_EXCEPT_LAYOUT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

// Every length check aborts: the checks after it (and the ones a caller chains) never run over a
// megabyte a client sent, so none of them can cost more than `max` characters' worth.

/** Plain text without control characters (for values that are not trimmed, such as opaque tokens). */
export const plainString = (max: number) =>
  z
    .string()
    .max(max, { abort: true })
    .refine((value) => !ANY_CONTROL.test(value), 'must not contain control characters');

/** Trimmed single-line text up to `max` characters (names, titles, e-mails, search terms): no control characters at all. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max, { abort: true })
    .refine((value) => !ANY_CONTROL.test(value), 'must not contain control characters or line breaks');

/** Trimmed multi-line text up to `max` characters (descriptions, chat): tabs and line breaks allowed, other control characters not. */
export const multilineText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, { abort: true })
    .refine((value) => !CONTROL_EXCEPT_LAYOUT.test(value), 'must not contain control characters');
