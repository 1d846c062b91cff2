import { z } from 'zod';
import type { Logger } from '../../lib/logger';

/** One session ended (logout, or its id rotated on sign-in or a role change), or every session of a user was revoked. */
export type SessionEnd = { sessionId: string } | { userId: string };

const SessionEndPayload = z.union([z.strictObject({ sessionId: z.string().min(1).max(256) }), z.strictObject({ userId: z.uuid() })]);

export type SessionEndHandler = (end: SessionEnd) => void;

/** Hands session ends to this instance's subscribers (the WebSocket server), whether heard locally or from another instance. */
export class SessionEndedHub {
  private readonly handlers = new Set<SessionEndHandler>();

  constructor(private readonly logger: Logger) {}

  subscribe(handler: SessionEndHandler): void {
    this.handlers.add(handler);
  }

  announce(end: SessionEnd): void {
    for (const handler of this.handlers) {
      try {
        handler(end);
      } catch (error) {
        this.logger.error(`[SESSION] A session-end subscriber failed: ${(error as Error).message}`);
      }
    }
  }

  /** A NOTIFY payload from any instance (this one included: announcing twice is harmless). */
  hear(payload: string): void {
    let parsed: SessionEnd;
    try {
      parsed = SessionEndPayload.parse(JSON.parse(payload));
    } catch {
      this.logger.warn('[SESSION] Ignored a malformed session-ended notification');
      return;
    }
    this.announce(parsed);
  }
}
