import { z } from 'zod';

const ComponentStatus = z.enum(['ok', 'degraded', 'down']);

/** `GET /api/health`: every component's status and details (details differ per component). */
export const HealthReport = z.object({
  status: ComponentStatus,
  uptimeSeconds: z.number().int(),
  timestamp: z.string(),
  memory: z.object({ rssBytes: z.number().int(), heapUsedBytes: z.number().int(), heapTotalBytes: z.number().int() }),
  components: z.record(z.string(), z.object({ status: ComponentStatus }).catchall(z.unknown())),
});

/** `GET /api/health/ready`: ready, or every reason it is not. */
export const ReadinessReport = z.object({ ready: z.boolean(), reasons: z.array(z.string()) });

/** `GET /api/health/live`: the process answers. */
export const Liveness = z.object({ status: z.literal('ok') });
