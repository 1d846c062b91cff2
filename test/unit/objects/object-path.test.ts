import { isPublicObjectKey } from '../../../server/modules/objects';
import { parseLocation, parseObjectKey, parseObjectPath } from '../../../server/modules/objects/object-path';

describe('object paths', () => {
  it('decodes each segment on its own', () => {
    expect(parseObjectPath('a/b%20c.png')).toBe('a/b c.png');
    expect(parseObjectPath('caf%C3%A9/%252e%252e')).toBe('café/%2e%2e');
  });

  it.each([
    '',
    '..',
    'a/../b',
    '%2e%2e/x',
    'a/.',
    'a//b',
    '/etc/passwd',
    '..%2fx',
    'a%5cb',
    'a\\b',
    'x%00.png',
    'x%0a',
    '%zz',
    `${'a'.repeat(256)}`,
  ])('refuses %j with a 400 invalid_object_path', (raw) => {
    expect(() => parseObjectPath(raw)).toThrow(expect.objectContaining({ status: 400, code: 'invalid_object_path' }));
  });

  it('parses configured /bucket/path locations', () => {
    expect(parseLocation('/bucket/a/b/')).toEqual({ bucket: 'bucket', prefix: 'a/b' });
    expect(parseLocation('/bucket')).toEqual({ bucket: 'bucket', prefix: '' });
  });

  it('recognises upload keys and rejects anything that could escape', () => {
    expect(parseObjectKey('public/3f2c.png')).toEqual({ visibility: 'public', relative: '3f2c.png' });
    expect(parseObjectKey('private/a b.pdf')).toEqual({ visibility: 'private', relative: 'a b.pdf' });
    expect(parseObjectKey('public/../x.png')).toBeUndefined();
    expect(parseObjectKey('elsewhere/x.png')).toBeUndefined();
    expect(isPublicObjectKey('public/x.png')).toBe(true);
    expect(isPublicObjectKey('private/x.png')).toBe(false);
    expect(isPublicObjectKey('public/')).toBe(false);
  });
});
