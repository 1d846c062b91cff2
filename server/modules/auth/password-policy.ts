import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';
import { badRequest } from '../../lib/errors';

/*
 * A password must resist guessing, not merely be long: zxcvbn-ts estimates the guesses an attacker
 * needs, with the common-password list and English words, names and keyboard patterns.
 */

// zxcvbn's "safely unguessable" (about 10^8 guesses and more): beyond online guessing and slow
// against an argon2id offline attack. Score 4 would also refuse memorable passphrases of three or
// four ordinary words, which is what we want people to choose.
const MIN_SCORE = 3;

let checker: ZxcvbnFactory | undefined;

/**
 * Built on first use (ranking the dictionaries takes ~150 ms), once per process. Only the first 64
 * characters are scored and l33t variants are capped at 15 substitutions: uncapped, a crafted
 * 128-character password costs up to a second of CPU; capped, any password costs < 60 ms (typically
 * 2–30 ms), and 64 characters that score 3 are strong whatever follows.
 */
function strengthChecker(): ZxcvbnFactory {
  checker ??= new ZxcvbnFactory({
    dictionary: { ...commonDictionary, ...englishDictionary },
    graphs: adjacencyGraphs,
    translations,
    maxLength: 64,
    l33tMaxSubstitutions: 15,
  });
  return checker;
}

/**
 * Compatibility forms folded (NFKC: full-width `ＰＡＳＳＷＯＲＤ１２３` is `PASSWORD123`, as an
 * input method may type it), so they are judged like the plain text they spell.
 */
const folded = (value: string) => value.normalize('NFKC');

/** Lowercase letters and digits only, so `Ada.Lovelace-1` still contains `ada lovelace`. */
const comparable = (value: string) =>
  folded(value)
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');

/** Throws 400 `weak_password` with zxcvbn's advice when the password is guessable or contains the e-mail or the name. */
export function refuseWeakPassword(password: string, owner: { email: string; name: string }): void {
  const localPart = owner.email.split('@')[0] ?? '';
  const candidate = comparable(password);
  const personal = [owner.email, localPart, owner.name].map(comparable).filter((part) => part.length >= 3);
  if (personal.some((part) => candidate.includes(part))) {
    throw badRequest('weak_password', 'The password must not contain your e-mail address or your name', {
      suggestions: ['Choose a password that has nothing to do with your e-mail address or name.'],
    });
  }
  const userInputs = [owner.email, localPart, owner.name, ...owner.name.split(/\s+/)].filter(Boolean);
  const { score, feedback } = strengthChecker().check(folded(password), userInputs.map(folded));
  if (score >= MIN_SCORE) return;
  const advice = [feedback.warning, ...feedback.suggestions].filter((line): line is string => Boolean(line));
  throw badRequest('weak_password', `This password is too easy to guess. ${advice.join(' ')}`.trim(), {
    score,
    ...(feedback.warning ? { warning: feedback.warning } : {}),
    suggestions: feedback.suggestions,
  });
}
