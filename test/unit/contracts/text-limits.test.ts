import { displayName } from '../../../shared/contracts/display-name';
import { multilineText, plainString, text } from '../../../shared/contracts/text';

// A client may send a megabyte in any string field: past its length nothing else may look at it
// (a pattern over a long run of letters used to take seconds per request on the name fields).
const oversized = `${'x'.repeat(200_000)}://www.\u0000<b>`;

it.each([
  ['text', text(100)],
  ['multilineText', multilineText(100)],
  ['plainString', plainString(100)],
  ['displayName', displayName(100)],
])('%s: a value past its length is refused with the one length issue, no other check run', (_name, schema) => {
  const result = schema.safeParse(oversized);
  expect(result.success).toBe(false);
  expect(result.error!.issues.map((i) => i.code)).toEqual(['too_big']);
});

it('checks a caller chains after the length never see an oversized value', () => {
  const seen = jest.fn(() => true);
  expect(text(10).refine(seen).safeParse('x'.repeat(50_000)).success).toBe(false);
  expect(seen).not.toHaveBeenCalled();
  expect(text(10).refine(seen).safeParse('short').success).toBe(true);
  expect(seen).toHaveBeenCalledTimes(1);
});

it('a web address is still refused in a name, whatever its scheme', () => {
  for (const name of ['Hats at https://evil.example', 'ftp://files', 'Visit www.hats.example']) {
    expect(displayName(100).safeParse(name).success).toBe(false);
  }
  expect(displayName(100).safeParse('J.R. Smith & Books.co').success).toBe(true);
});
