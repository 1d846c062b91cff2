ALTER TABLE "email_outbox" RENAME COLUMN "next_attempt_at" TO "last_attempt_at";--> statement-breakpoint
DROP INDEX "email_outbox_due_idx";--> statement-breakpoint
CREATE INDEX "email_outbox_pending_idx" ON "email_outbox" USING btree ("status") WHERE status = 'pending';