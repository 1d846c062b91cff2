# syntax=docker/dockerfile:1
# Production image: build with the dev toolchain, run with production dependencies only.
#   docker build -t marketplace .
#   docker run --rm --env-file .env marketplace npm run db:migrate:prod   # migrations: a separate, one-off command
#   docker run --init -p 5000:5000 --env-file .env marketplace
# The same path is tested without Docker in test/slow/deploy/production-artefact.test.ts.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared shared
COPY server server
COPY scripts scripts
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=5000
WORKDIR /app
COPY package.json package-lock.json ./
# argon2's install script only picks its prebuilt binary; no compiler is needed.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
# Found at run time next to dist/ (server/db/migrate.ts resolves it from its own location).
COPY migrations migrations
# DATA_DIR (local object storage) must be writable by the non-root user.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 5000
# The slim image has no curl: Node's own fetch probes liveness.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 5000) + '/api/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node directly, not npm start: SIGTERM reaches the server, which drains before exiting.
CMD ["node", "dist/server/index.js"]
