export * from './admin';
export * from './auth';
export * from './catalogue';
export * from './crypto-rates';
export * from './objects';
export * from './orders';
export * from './realtime';
export * from './health';
