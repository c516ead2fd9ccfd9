import assert from "node:assert/strict";
import { KubeApiError } from "../kube/errors.ts";
import type { Kube } from "../kube/client.ts";
import { resolveValues } from "../stack/values.ts";
import { firstGoodRequest, probeTarget } from "./first_request.ts";

Deno.test("first request: the benchmark's target first, else Countly's API, else Prometheus", async () => {
  const all = await resolveValues([], []);
  assert.deepEqual(probeTarget(all), {
    namespace: "cncfdemo",
    service: "countly-api",
    port: "http",
    path: "/o/ping",
  });
  const offline = await resolveValues([], [
    "mongo.enabled=false",
    "countly.enabled=false",
    "benchTarget.enabled=true",
  ]);
  assert.equal(probeTarget(offline, "http://bench-target.cncfdemo/")?.service, "bench-target");
  assert.equal(probeTarget(offline)?.service, "bench-target");
  const monitoring = await resolveValues([], ["mongo.enabled=false", "countly.enabled=false"]);
  assert.deepEqual(probeTarget(monitoring), {
    namespace: "monitoring",
    service: "prometheus",
    port: "http",
    path: "/-/ready",
  });
});

Deno.test("first request: asked through the service proxy until it answers 2xx; the instant recorded", async () => {
  const paths: string[] = [];
  let calls = 0;
  const kube = {
    rest: {
      requestText(method: string, path: string) {
        paths.push(`${method} ${path}`);
        // 503 while the endpoints settle, then the answer.
        if (++calls < 3) {
          return Promise.reject(
            new KubeApiError("no endpoints available", 503, "ServiceUnavailable"),
          );
        }
        return Promise.resolve("ok");
      },
    },
  } as unknown as Kube;
  const before = performance.now();
  const first = await firstGoodRequest(
    kube,
    { namespace: "cncfdemo", service: "bench-target", port: "http", path: "/" },
    { timeoutMs: 10_000, rolloutEndMs: before },
  );
  assert.deepEqual(
    paths,
    Array(3).fill("GET /api/v1/namespaces/cncfdemo/services/bench-target:http/proxy/"),
  );
  assert.equal(first.attempts, 3);
  assert.equal(first.target, "service cncfdemo/bench-target:http GET /");
  assert.ok(first.ms >= before && first.ms <= performance.now() + 0.1, JSON.stringify(first));
  assert.ok(first.after_rollout_ms >= 0);

  // No good answer within the deadline: one line with the last answer.
  const never = {
    rest: {
      requestText: () => Promise.reject(new KubeApiError("no endpoints available", 503, "x")),
    },
  } as unknown as Kube;
  await assert.rejects(
    firstGoodRequest(never, { namespace: "a", service: "b", port: "http", path: "/" }, {
      timeoutMs: 200,
      rolloutEndMs: 0,
    }),
    /^TimeoutError: No good answer from service a\/b:http GET \/ within 200ms of the rollout's end \(\d+ requests; the last: no endpoints available\)$/,
  );
});
