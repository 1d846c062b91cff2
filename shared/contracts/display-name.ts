import { text } from './text';

/*
 * Names people choose (account names, store names) are shown to others and put into e-mails that
 * anyone can have sent to any address (the welcome mail). A name that carries a link or a line
 * break turns that mail into the sender's message, so a name is one line of printable text:
 * - no control characters, line or paragraph separators, or bidirectional overrides (which
 *   make a name read differently from what it contains);
 * - no `<` or `>` (markup in any client that does not escape);
 * - no web address: a scheme (`https://`, `ftp://`, …) or `www.`, which mail clients turn into
 *   links. Bare domains (`evil.com`) are allowed: telling them from initials and brand names
 *   (`J.R. Smith`, `Books.co`) would refuse real names; the templates escape them as text.
 */
// C0 controls and DEL are already refused by `text`; these are the ones it lets through.
const UNPRINTABLE = /[\u0080-\u009f\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;
// `://` anywhere (no name needs one) rather than a scheme pattern, which backtracks quadratically
// over a long run of letters.
const WEB_ADDRESS = /:\/\/|\bwww\./i;

/** A trimmed display name of 1 to `max` characters: one line, printable, no markup, no web address. */
export const displayName = (max: number) =>
  text(max)
    .min(1, 'required')
    .refine((value) => !UNPRINTABLE.test(value), 'must be one line of printable text')
    .refine((value) => !/[<>]/.test(value), 'must not contain < or >')
    .refine((value) => !WEB_ADDRESS.test(value), 'must not contain a web address');
