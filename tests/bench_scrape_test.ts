/**
 * The bench keeps a run's Pushgateway groups until Prometheus has scraped them: against Debian's
 * Prometheus scraping Debian's Pushgateway with the stack's pushgateway job (every second here),
 * the wait ends once every generator's series is in Prometheus — and the series stay queryable
 * after the groups are deleted, which is what Grafana's wrk panels need. Without Prometheus, or
 * with a Prometheus that does not scrape the Pushgateway, nothing is waited for; a generator
 * Prometheus never sees ends the wait at its deadline (2 intervals + margin).
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { awaitScrape, PrometheusApi } from "../lib/bench/prometheus_api.ts";
import { Pushgateway } from "../lib/bench/pushgateway.ts";
import { renderStack } from "../lib/stack/render.ts";
import { resolveValues } from "../lib/stack/values.ts";
import { pollUntil } from "../lib/wait.ts";
import { freePort, startPrometheus, startPushgateway } from "./support/servers.ts";

const WRK = await Deno.readTextFile(new URL("../testdata/bench/wrk_g0.prom", import.meta.url));

/** The rendered pushgateway job, aimed at a local Pushgateway, scraping every second. */
async function pushgatewayJob(host: string) {
  const objects = await renderStack(await resolveValues([], []), {
    grafanaAdminPassword: "p",
    countlyAppKey: "k",
  });
  const cm = objects.find((o) => o.metadata.name === "prometheus-config") as unknown as {
    data: Record<string, string>;
  };
  // deno-lint-ignore no-explicit-any
  const job = (parse(cm.data["prometheus.yml"]!) as any).scrape_configs.find((j: any) =>
    j.job_name === "pushgateway"
  );
  job.static_configs = [{ targets: [host] }];
  job.scrape_interval = "1s";
  return job;
}

Deno.test("bench: the Pushgateway groups stay until Prometheus has scraped them", async () => {
  const pg = await startPushgateway();
  const prom = await startPrometheus(
    stringify({ scrape_configs: [await pushgatewayJob(new URL(pg.url).host)] }),
  );
  try {
    const gw = Pushgateway.at(pg.url);
    const api = PrometheusApi.at(prom.url);
    // as in a cluster where Prometheus has long been running: its targets are discovered
    await pollUntil(
      async () => (await api.activeTargets())?.some((t) => t.labels.job === "pushgateway"),
      { timeoutMs: 30_000, describe: () => "Prometheus never listed the Pushgateway target" },
    );
    await gw.push("scrape-run", "g0", WRK);
    await gw.push("scrape-run", "g1", WRK);
    const lines: string[] = [];
    const out = await awaitScrape(api, "scrape-run", ["g0", "g1"], (l) => lines.push(l));
    assert.equal(out.state, "scraped", out.detail);
    assert.equal(out.intervalMs, 1_000);
    assert.match(out.detail, /^scraped by Prometheus after \d+\.\ds$/);
    assert.match(lines.at(-1)!, /^waiting for Prometheus to scrape the results \(every 1s\): 2\/2/);
    assert.equal(await gw.deleteRun("scrape-run", ["g0", "g1"]), 2);
    // Grafana's panels query Prometheus, not the Pushgateway: the run is still there
    const rate = await api.query(
      'sum by (run_id) (wrk_requests_total{run_id="scrape-run"}) / max by (run_id) (wrk_duration_seconds{run_id="scrape-run"})',
    );
    assert.equal(rate.length, 1);
    const p99 = await api.query(
      'histogram_quantile(0.99, sum by (run_id, le) (wrk_latency_seconds_bucket{run_id="scrape-run"}))',
    );
    assert.ok(Number(p99[0]!.value[1]) > 0);

    // a generator Prometheus never sees: the wait ends at 2 intervals + the margin given
    await gw.push("partial-run", "g0", WRK);
    const t0 = performance.now();
    const late = await awaitScrape(api, "partial-run", ["g0", "g9"], () => {}, 1_000);
    assert.equal(late.state, "deadline");
    assert.ok(performance.now() - t0 >= 3_000);
    assert.equal(
      late.detail,
      "Prometheus had not scraped run partial-run after 3s (2 × its 1s interval + margin)",
    );
  } finally {
    await prom.stop();
    await pg.stop();
  }
});

Deno.test("bench: no Prometheus, or one that does not scrape the Pushgateway: nothing to wait for", async () => {
  const nobody = await awaitScrape(PrometheusApi.at(`http://127.0.0.1:${freePort()}`), "r", ["g0"]);
  assert.equal(nobody.state, "no-prometheus");
  assert.match(nobody.detail, /^Prometheus not asked: Cannot reach Prometheus at .*refused/);
  const prom = await startPrometheus(stringify({ scrape_configs: [] }));
  try {
    const other = await awaitScrape(PrometheusApi.at(prom.url), "r", ["g0"]);
    assert.deepEqual(other, {
      state: "not-scraped-by-prometheus",
      detail: "Prometheus does not scrape the Pushgateway",
    });
  } finally {
    await prom.stop();
  }
});
