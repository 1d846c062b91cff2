import { captureLogger } from '../../support/logger';

it('a line below the level is dropped before it is formatted: its fields are never even read', () => {
  const { logger, memory } = captureLogger('info');
  let read = false;
  const detail = {
    get costly() {
      read = true;
      return 'computed';
    },
  };
  logger.debug('dropped', { detail });
  logger.http('dropped too', { detail });
  expect(read).toBe(false);
  expect(memory.entries).toHaveLength(0);

  logger.info('kept', { detail });
  expect(read).toBe(true);
  expect(memory.entries).toHaveLength(1);
  expect(memory.entries[0]).toMatchObject({ message: 'kept', detail: { costly: 'computed' } });
});

it('a child logger drops by the same level and stamps what it keeps', () => {
  const { logger, memory } = captureLogger('warn');
  const child = logger.child({ requestId: 'r-1' });
  child.info('dropped');
  child.warn('kept');
  expect(memory.entries).toHaveLength(1);
  expect(memory.entries[0]).toMatchObject({ message: 'kept', level: 'warn', requestId: 'r-1' });
});
