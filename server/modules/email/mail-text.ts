/*
 * Every value in a mail comes from someone (names, store names, product titles, tracking
 * numbers): each line is HTML-escaped in the HTML part, and line breaks or other control
 * characters inside a value are folded into a space everywhere, so a value can neither add
 * markup nor start a line of its own.
 */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const oneLine = (s: string) => s.replace(/[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]+/gu, ' ');
