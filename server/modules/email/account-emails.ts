import { escapeHtml, oneLine } from './mail-text';
import type { OutgoingEmail } from './outbox.repository';

/*
 * Mails about the account itself. The name is the user's own text: it is folded onto one line and
 * HTML-escaped (mail-text.ts); links and tokens are ours. Each mail is keyed by what
 * caused it, so a retried transaction never mails twice.
 */

interface Recipient {
  id: string;
  email: string;
  name: string;
}

function accountMail(kind: string, dedupeKey: string, to: Recipient, subject: string, lines: string[], link?: string): OutgoingEmail {
  const body = lines.map(oneLine);
  const html = body.map((l) => `<p>${escapeHtml(l)}</p>`);
  if (link) html.splice(1, 0, `<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`);
  return {
    kind,
    dedupeKey,
    toEmail: to.email,
    toName: oneLine(to.name),
    subject,
    text: (link ? [body[0]!, link, ...body.slice(1)] : body).join('\n'),
    html: html.join(''),
  };
}

/** The reset link and, for clients that enter it by hand, the token itself; `tokenId` (its hash) keys the mail. */
export function passwordResetEmail(user: Recipient, reset: { link: string; token: string; tokenId: string }): OutgoingEmail {
  return accountMail(
    'password_reset',
    `password-reset:${reset.tokenId}`,
    user,
    'Reset your password',
    [
      `Hello ${user.name}, someone (hopefully you) asked to reset your password. Follow this link within an hour:`,
      `Or enter this code: ${reset.token}`,
      'If you did not ask, ignore this mail: your password stays as it is.',
    ],
    reset.link,
  );
}

export function emailVerificationEmail(user: Recipient, verification: { link: string; token: string; tokenId: string }): OutgoingEmail {
  return accountMail(
    'email_verification',
    `email-verification:${verification.tokenId}`,
    user,
    'Confirm your e-mail address',
    [
      `Hello ${user.name}, please confirm your e-mail address by following this link:`,
      `Or enter this code: ${verification.token}`,
      'You need a confirmed address to open a store.',
    ],
    verification.link,
  );
}

/** Tells the owner their password changed (reset or change), so a takeover does not go unnoticed. */
export function passwordChangedEmail(user: Recipient, at: Date): OutgoingEmail {
  return accountMail('password_changed', `password-changed:${user.id}:${at.getTime()}`, user, 'Your password was changed', [
    `Hello ${user.name},`,
    `the password of your account was changed at ${at.toISOString()}. You were signed out everywhere else.`,
    'If this was not you, reset your password at once and contact us.',
  ]);
}
