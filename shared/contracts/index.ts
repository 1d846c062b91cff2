export * from './auth';
export * from './crypto-rates';
