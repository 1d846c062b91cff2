import { Router } from 'express';
import { buildHealthReport, checkReadiness, type HealthDeps } from './health.service';

export function healthRouter(deps: HealthDeps): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const report = await buildHealthReport(deps);
    res.set('Cache-Control', 'no-store');
    res.status(report.status === 'down' ? 503 : 200).json(report);
  });
  router.get('/live', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const report = await checkReadiness(deps);
    res.set('Cache-Control', 'no-store');
    res.status(report.ready ? 200 : 503).json(report);
  });
  return router;
}
