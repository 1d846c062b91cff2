import type { CookieOptions } from 'express';
import type { Config } from '../../lib/config';

/** The session cookie's name and attributes, from SESSION_COOKIE_* (one place, so setting and clearing agree). */
export interface SessionCookie {
  name: string;
  options: CookieOptions & { sameSite: 'lax' | 'strict' | 'none' };
  /** Whether a Cookie header carries this cookie: cheap, runs on every request. */
  isIn(cookieHeader: string | undefined): boolean;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function sessionCookieOf(config: Config): SessionCookie {
  const name = config.SESSION_COOKIE_NAME;
  // Start of header or after `;`, so `xsid=` never counts as `sid=`.
  const present = new RegExp(`(?:^|;)\\s*${escapeRegExp(name)}=`);
  return {
    name,
    options: {
      httpOnly: true,
      sameSite: config.SESSION_COOKIE_SAMESITE,
      // Browsers refuse SameSite=None, and a __Secure- or __Host- name, without Secure: those force it in every environment.
      secure: config.NODE_ENV === 'production' || config.SESSION_COOKIE_SAMESITE === 'none' || /^__(Secure|Host)-/.test(name),
      ...(config.SESSION_COOKIE_DOMAIN ? { domain: config.SESSION_COOKIE_DOMAIN } : {}),
      path: '/',
    },
    isIn: (cookieHeader) => cookieHeader !== undefined && present.test(cookieHeader),
  };
}
