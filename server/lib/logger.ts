import winston from 'winston';
import Transport from 'winston-transport';
import type { Config } from './config';

export type Logger = winston.Logger;

// Keys whose values are never logged, wherever they sit in a log entry.
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|^sid$|session[-_]?id|client[-_]?secret|signature/i;

// Secret-shaped text inside strings (messages, error texts, URLs).
const SECRET_TEXT: Array<[RegExp, string]> = [
  [/\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]+/g, '$1_$2_[REDACTED]'],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, 'whsec_[REDACTED]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [REDACTED]'],
  [/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/gi, '$1[REDACTED]@'],
  [/\b(sid|connect\.sid)=[^;\s]+/gi, '$1=[REDACTED]'],
  [/\bxkeysib-[A-Za-z0-9-]+/g, 'xkeysib-[REDACTED]'],
  // Drizzle's text of a failed query (`Failed query: <sql>\nparams: <values>`, values possibly
  // multi-line), wherever a caller interpolated it: everything up to the stack frames goes.
  [/Failed query: [\s\S]*?\nparams: [\s\S]*?(?=\n\s+at |$)/g, 'Failed query: [SQL and parameters withheld]'],
];

// Matches wherever any SECRET_TEXT pattern could: most strings (ids, routes, messages) skip all seven replacements.
const SECRET_TEXT_HINT = /k_(?:live|test)_|whsec_|(?:bearer|basic)\s|postgres|sid=|xkeysib-|failed query: /i;

export function redactText(text: string): string {
  if (!SECRET_TEXT_HINT.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of SECRET_TEXT) out = out.replace(pattern, replacement);
  return out;
}

// The fields of a driver error (pg, Neon) that name what failed without quoting any value.
const DATABASE_ERROR_FIELDS = ['code', 'constraint', 'table', 'column', 'schema', 'dataType', 'routine'] as const;

/** The database error (pg's DatabaseError, carrying a SQLSTATE and `severity`) along a cause chain, if any. */
function databaseErrorIn(error: Error): (Error & Record<string, unknown>) | undefined {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    const candidate = current as Error & Record<string, unknown>;
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code) && 'severity' in candidate) return candidate;
    current = candidate.cause;
  }
  return undefined;
}

/**
 * What a log may say about a query failure: Drizzle's message is the SQL with its bound
 * parameters (e-mails, password hashes, chat bodies), and Postgres's own message and detail
 * quote the offending values, so only the SQLSTATE, the constraint, table and column, and
 * the stack frames (without the message line) are kept.
 */
function describeQueryError(error: Error, cause: (Error & Record<string, unknown>) | undefined): Record<string, unknown> {
  const described: Record<string, unknown> = { name: error.name };
  for (const field of DATABASE_ERROR_FIELDS) if (cause?.[field] !== undefined) described[field] = cause[field];
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  described.stack = frames.join('\n');
  return described;
}

/** Whether an error is (or wraps) a failed query, whose text must never be logged. */
function isQueryError(error: unknown): boolean {
  return error instanceof Error && ('params' in error || databaseErrorIn(error) !== undefined);
}

/** A one-line summary safe to log: the message, or for a failed query only its kind and SQLSTATE. */
export function summarizeError(error: unknown): string {
  if (!(error instanceof Error)) return redactText(String(error));
  if (!isQueryError(error)) return redactText(error.message);
  const code = databaseErrorIn(error)?.code;
  return `${error.name}: a query failed${code ? ` (SQLSTATE ${code})` : ''}`;
}

/** Deep copy with secret keys replaced and secret-looking text scrubbed. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (value instanceof Error) {
    if (isQueryError(value)) return describeQueryError(value, databaseErrorIn(value));
    return { name: value.name, message: redactText(value.message), stack: value.stack && redactText(value.stack) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? '[REDACTED]' : redact(v, depth + 1);
  }
  return out;
}

const redactFormat = winston.format((info) => {
  // An Error logged directly keeps message and stack as non-enumerable own properties.
  info.message = redactText(String(info.message ?? ''));
  if (typeof info.stack === 'string') info.stack = redactText(info.stack);
  for (const key of Object.keys(info)) {
    if (SECRET_KEY.test(key)) info[key] = '[REDACTED]';
    else info[key] = redact(info[key]);
  }
  return info;
});

export interface LoggerOptions {
  config: Pick<Config, 'NODE_ENV' | 'LOG_LEVEL'>;
  /** Extra transports, e.g. a capture in tests. */
  transports?: Transport[];
  /** Whether to write to the console (tests usually turn it off). */
  console?: boolean;
}

export function createLogger({ config, transports = [], console = true }: LoggerOptions): Logger {
  const production = config.NODE_ENV === 'production';
  // winston runs the format chain before its transports filter by level: a line no transport
  // takes is dropped first, before it is redacted (a deep copy) and stamped.
  let logger: Logger | undefined;
  const dropUnwanted = winston.format((info) =>
    typeof info.level === 'string' && logger?.isLevelEnabled(info.level) === false ? false : info,
  );
  // errors() first: it copies an Error's message and stack onto the entry, which redaction must see.
  const base = winston.format.combine(
    dropUnwanted(),
    winston.format.errors({ stack: !production }),
    redactFormat(),
    winston.format.timestamp(),
  );
  const human = winston.format.printf(({ timestamp, level, message, component, requestId, service: _s, ...rest }) => {
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
    const rid = requestId ? ` (${requestId})` : '';
    return `${timestamp} ${level}${component ? ` ${component}` : ''}: ${message}${rid}${extra}`;
  });
  const all: Transport[] = [...transports];
  if (console) {
    all.push(
      new winston.transports.Console({
        format: production ? winston.format.json() : winston.format.combine(winston.format.colorize(), human),
      }),
    );
  }
  logger = winston.createLogger({
    level: config.LOG_LEVEL,
    defaultMeta: { service: 'marketplace' },
    format: base,
    transports: all,
    // With no transport winston complains on every write; a silent logger is still valid.
    silent: all.length === 0,
  });
  return logger;
}

/** Keeps every log entry in memory; for tests that assert on what was (not) logged. */
export class MemoryTransport extends Transport {
  readonly entries: Array<Record<string, unknown>> = [];
  override log(info: Record<string, unknown>, next: () => void): void {
    this.entries.push({ ...info });
    // Tests await a log line as an event instead of sleeping.
    this.emit('entry', info);
    next();
  }
  lines(): string[] {
    return this.entries.map((e) => JSON.stringify(e));
  }
}
