/**
 * The monitoring configuration against the real programs: promtool (the image's Prometheus
 * version) checks the rendered prometheus.yml; Debian's Prometheus scrapes Debian's Pushgateway with
 * the rendered pushgateway job, holding a real wrk result, and every Grafana dashboard query is
 * evaluated — the Countly panels must find the wrk data.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { resolveBinaries } from "../lib/binaries.ts";
import { run } from "../lib/run_program.ts";
import { renderStack } from "../lib/stack/render.ts";
import { resolveValues } from "../lib/stack/values.ts";
import { pollUntil } from "../lib/wait.ts";
import { startPrometheus, startPushgateway } from "./support/servers.ts";

const SECRETS = { grafanaAdminPassword: "p", countlyAppKey: "k" };

async function configMaps() {
  const objects = await renderStack(await resolveValues([], []), SECRETS);
  const data = (name: string) =>
    (objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === name) as unknown as {
      data: Record<string, string>;
    })
      .data;
  return {
    prometheus: data("prometheus-config")["prometheus.yml"]!,
    dashboards: data("grafana-dashboards"),
  };
}

Deno.test("monitoring: promtool accepts the rendered Prometheus configuration", async () => {
  const { prometheus } = await configMaps();
  const dir = await Deno.makeTempDir();
  try {
    // The in-cluster service account files do not exist here: point them at stand-ins.
    const text = prometheus.replaceAll("/var/run/secrets/kubernetes.io/serviceaccount", dir);
    await Deno.writeTextFile(`${dir}/token`, "token");
    await Deno.writeTextFile(`${dir}/ca.crt`, "");
    await Deno.writeTextFile(`${dir}/prometheus.yml`, text);
    const promtool = (await resolveBinaries(["promtool"])).paths.promtool;
    const r = await run(promtool, ["check", "config", "--syntax-only", `${dir}/prometheus.yml`], {
      allowFailure: true,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /SUCCESS/);
    // and it does refuse a broken one, so the check means something
    await Deno.writeTextFile(
      `${dir}/bad.yml`,
      text.replace("scrape_interval:", "scrape_intervall:"),
    );
    const bad = await run(promtool, ["check", "config", "--syntax-only", `${dir}/bad.yml`], {
      allowFailure: true,
    });
    assert.notEqual(bad.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("monitoring: Prometheus verifies every TLS target it scrapes (no insecure_skip_verify)", async () => {
  const { prometheus } = await configMaps();
  assert.ok(!/insecure_skip_verify/.test(prometheus));
  // deno-lint-ignore no-explicit-any
  const jobs = (parse(prometheus) as any).scrape_configs as any[];
  const https = jobs.filter((j) => j.scheme === "https");
  assert.deepEqual(https.map((j) => j.job_name), ["apiserver", "kubelet", "kubelet-cadvisor"]);
  for (const j of https) {
    assert.equal(j.tls_config.ca_file, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
    assert.equal(j.tls_config.insecure_skip_verify, undefined, j.job_name);
    assert.equal(
      j.authorization.credentials_file,
      "/var/run/secrets/kubernetes.io/serviceaccount/token",
    );
  }
  // the API server's certificate names it "kubernetes"; kubelets are scraped by address (the
  // node role's default, InternalIP first), which their serving certificates carry as a SAN
  assert.equal(https.find((j) => j.job_name === "apiserver").tls_config.server_name, "kubernetes");
  for (const name of ["kubelet", "kubelet-cadvisor"]) {
    const j = https.find((x) => x.job_name === name);
    assert.deepEqual(j.kubernetes_sd_configs, [{ role: "node" }]);
    assert.ok(
      !j.relabel_configs.some((r: { target_label?: string }) => r.target_label === "__address__"),
    );
  }
});

Deno.test("monitoring: the network panel counts pods' interfaces only (not cAdvisor's root cgroup)", async () => {
  const { dashboards } = await configMaps();
  const panel = JSON.parse(dashboards["cluster.json"]!).panels.find((p: { title: string }) =>
    p.title === "Pod network I/O"
  );
  for (const t of panel.targets) assert.match(t.expr, /container_network_\w+_total\{pod!=""\}/);
});

Deno.test("monitoring: every dashboard query runs in Prometheus; the Countly panels show the wrk data", async () => {
  const { prometheus, dashboards } = await configMaps();
  const pushgateway = await startPushgateway();
  let server: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  try {
    // A real wrk result, pushed the way the wrk image pushes it.
    const wrk = await Deno.readTextFile(new URL("../testdata/bench/wrk_g0.prom", import.meta.url));
    const put = await fetch(
      `${pushgateway.url}/metrics/job/cncfdemo-bench/run_id/r1/generator/g0`,
      {
        method: "PUT",
        body: wrk,
      },
    );
    assert.equal(put.status, 200, await put.text());
    // The rendered pushgateway job, aimed at the local Pushgateway, scraping every second.
    // deno-lint-ignore no-explicit-any
    const config = parse(prometheus) as any;
    // deno-lint-ignore no-explicit-any
    const job = config.scrape_configs.find((j: any) => j.job_name === "pushgateway");
    assert.equal(job.honor_labels, true, "pushed labels (run_id, generator) are kept");
    job.static_configs = [{ targets: [new URL(pushgateway.url).host] }];
    server = await startPrometheus(
      stringify({ global: { scrape_interval: "1s" }, scrape_configs: [job] }),
    );
    const query = async (expr: string) => {
      const res = await fetch(`${server!.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const text = await res.text();
      assert.ok(
        res.headers.get("content-type")?.includes("json"),
        `Prometheus answered ${res.status}: ${text}`,
      );
      return JSON.parse(text) as {
        status: string;
        error?: string;
        data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
    };
    const requests = Number(/^wrk_requests_total (\d+)$/m.exec(wrk)![1]);
    const duration = Number(/^wrk_duration_seconds ([\d.]+)$/m.exec(wrk)![1]);
    await pollUntil(
      async () => ((await query("wrk_requests_total")).data?.result.length ?? 0) > 0,
      {
        timeoutMs: 30_000,
        describe: () => "Prometheus never scraped the Pushgateway",
      },
    );
    for (const [file, text] of Object.entries(dashboards)) {
      const dashboard = JSON.parse(text) as {
        panels: { title: string; targets: { expr: string }[] }[];
      };
      for (const panel of dashboard.panels) {
        for (const t of panel.targets) {
          const r = await query(t.expr);
          assert.equal(r.status, "success", `${file} "${panel.title}": ${t.expr}: ${r.error}`);
          if (file === "countly.json" && /wrk_/.test(t.expr)) {
            assert.ok(
              r.data!.result.length > 0,
              `${file} "${panel.title}" finds the wrk data: ${t.expr}`,
            );
            assert.equal(r.data!.result[0]!.metric.run_id, "r1");
          }
        }
      }
    }
    const rate = await query(
      JSON.parse(dashboards["countly.json"]!).panels.find((p: { title: string }) =>
        p.title.startsWith("Request rate")
      ).targets[0].expr,
    );
    assert.ok(
      Math.abs(Number(rate.data!.result[0]!.value[1]) - requests / duration) < 1e-6 * requests,
    );
  } finally {
    await server?.stop();
    await pushgateway.stop();
  }
});
