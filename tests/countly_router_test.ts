/**
 * Countly's router as nginx runs it: the rendered nginx.conf (Debian's nginx, the same package as
 * the bench target's image) in front of two stand-ins for Countly's API and dashboard on
 * 127.0.0.1. The browser's one origin sends /i and /o (and below) to the API with the client's
 * address forwarded, and every other path to the dashboard with the Host it asked for.
 */
import assert from "node:assert/strict";
import { renderStack } from "../lib/stack/render.ts";
import { resolveValues } from "../lib/stack/values.ts";
import { freePort, startServer } from "./support/servers.ts";

/** A stand-in backend answering `<name> <path> host=<Host> xff=<X-Forwarded-For>`. */
function backend(name: string) {
  const port = freePort();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    (req) => {
      const u = new URL(req.url);
      return new Response(
        `${name} ${u.pathname}${u.search} host=${req.headers.get("host")} xff=${
          req.headers.get("x-forwarded-for")
        }`,
      );
    },
  );
  return { port, server };
}

Deno.test("Countly's router: /i and /o to the API, everything else to the dashboard", async () => {
  const objects = await renderStack(await resolveValues([], []), {
    grafanaAdminPassword: "p",
    countlyAppKey: "k",
  });
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "countly-router");
  const rendered = (cm as unknown as { data: Record<string, string> }).data["nginx.conf"]!;
  const api = backend("api");
  const dashboard = backend("dashboard");
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-router-" });
  const port = freePort();
  // The cluster's names and the container's /tmp and port, pointed at this machine's stand-ins.
  const conf = rendered
    .replace("countly-api.cncfdemo.svc:3001", `127.0.0.1:${api.port}`)
    .replace("countly-dashboard.cncfdemo.svc:6001", `127.0.0.1:${dashboard.port}`)
    .replaceAll("/tmp/", `${dir}/`)
    .replace("listen 8080 default_server;", `listen 127.0.0.1:${port} default_server;`);
  assert.notEqual(conf, rendered);
  await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
  const url = `http://127.0.0.1:${port}`;
  const nginx = await startServer(
    "nginx",
    ["-c", `${dir}/nginx.conf`, "-p", dir, "-e", `${dir}/error.log`],
    url,
    `${url}/healthz`,
  );
  try {
    const get = async (path: string) => {
      const res = await fetch(`${url}${path}`);
      return `${res.status} ${await res.text()}`;
    };
    assert.equal(
      await get("/i?app_key=k&device_id=d"),
      // the Host the browser asked for (the router's), not the backend's address
      `200 api /i?app_key=k&device_id=d host=127.0.0.1:${port} xff=127.0.0.1`,
    );
    assert.match(await get("/i/bulk"), /^200 api \/i\/bulk /);
    assert.match(await get("/o"), /^200 api \/o /);
    assert.match(await get("/o/ping"), /^200 api \/o\/ping /);
    assert.equal(
      await get("/dashboard"),
      `200 dashboard /dashboard host=127.0.0.1:${port} xff=127.0.0.1`,
    );
    assert.match(await get("/login"), /^200 dashboard \/login /);
    // not a prefix match: /images is the dashboard's, /i is the API's
    assert.match(await get("/images/logo.png"), /^200 dashboard /);
    assert.match(await get("/ops"), /^200 dashboard /);
    assert.equal(await get("/healthz"), "200 ok\n");
  } finally {
    await nginx.stop();
    await api.server.shutdown();
    await dashboard.server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
