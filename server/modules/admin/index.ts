import type { AppModule, ModuleContext } from '../../lib/module';
import { adminRoutes } from './admin.routes';
import type { AdminPorts } from './ports';

export type { AdminPorts } from './ports';

/**
 * The admin console's API: review orders, suspensions, the audit log. Admins exist only by
 * `npm run admin:create` (never through the API); the records it acts on belong to other modules,
 * reached through `ports`.
 */
export function createAdminModule(context: ModuleContext, ports: AdminPorts): AppModule {
  const { database, clock, logger } = context;
  return { name: 'admin', routes: adminRoutes({ ...ports, database, clock, logger }) };
}
