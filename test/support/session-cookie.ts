import signature from 'cookie-signature';

/** The `sid=…` pair (or another SESSION_COOKIE_NAME's) from a Set-Cookie header list. */
export function sidCookie(setCookie: string[] | string | undefined, name = 'sid'): string {
  const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const found = list.find((c) => c.startsWith(`${name}=`));
  if (!found) throw new Error(`no ${name} cookie in ${JSON.stringify(list)}`);
  return found.split(';')[0]!;
}

/** The raw session id inside a signed `sid=s%3A<id>.<sig>` cookie. */
export function sessionIdOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice('sid='.length));
  return value.slice(2, value.lastIndexOf('.'));
}

/** A cookie for a session id of our choosing, signed like express-session does (a planted cookie). */
export function plantedCookie(sessionId: string, secret: string): string {
  return `sid=${encodeURIComponent(`s:${signature.sign(sessionId, secret)}`)}`;
}
