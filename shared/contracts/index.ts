export * from './auth';
export * from './objects';
