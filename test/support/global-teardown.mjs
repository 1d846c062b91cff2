export default async function globalTeardown() {
  const server = globalThis.__MP_TEST_PG__;
  if (server) await server.stop();
}
