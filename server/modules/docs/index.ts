import type { AppModule } from '../../lib/module';
import { apiRoutes } from './api-routes';
import { buildOpenApiDocument } from './openapi-document';

export { type ApiRoute, apiRoutes } from './api-routes';

/** Serves the generated OpenAPI document; built once, on first request. */
export function createDocsModule(options: { version: string }): AppModule {
  let document: string | undefined;
  return {
    name: 'docs',
    mount(app) {
      app.get('/api/openapi.json', (_req, res) => {
        document ??= JSON.stringify(buildOpenApiDocument(apiRoutes, options));
        res.type('application/json').send(document);
      });
    },
  };
}
