import type { AppModule } from '../../lib/module';
import { healthRoutes } from './health.routes';
import type { HealthDeps } from './health.service';

export function createHealthModule(deps: HealthDeps): AppModule {
  return {
    name: 'health',
    routes: healthRoutes(deps),
  };
}
