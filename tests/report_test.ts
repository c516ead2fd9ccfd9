/**
 * `deno task report` on records made in the test itself: a simulated cluster's demo (bootstrap and
 * rollout) and a re-run rollout, two local benchmarks (wrk on this machine against nginx, one with
 * a changed parameter), and an AWS bootstrap against moto_server; the report shows the three
 * models, every phase and the cost columns, in JSON, Markdown and HTML, and the HTML renders in
 * headless Chromium with no console error and no request outside the file. Bad input: one line
 * each, nothing half-written. (The real node's records: tests/report_local_test.ts.)
 */
import assert from "node:assert/strict";
import type { Report } from "../lib/report/analyze.ts";
import { costPerMillion, localCostPerHour, shippedPrices } from "../lib/report/prices.ts";
import type { BootstrapRecord, RolloutRecord } from "../lib/report/schema.ts";
import { sandbox } from "./support/env.ts";
import { openInChromium } from "./support/chromium.ts";
import { awsRecords } from "./support/report.ts";
import { startNginx } from "./support/servers.ts";

async function recordsIn(dir: string): Promise<(BootstrapRecord | RolloutRecord)[]> {
  const out = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.endsWith(".json")) continue;
    const doc = JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`));
    if (doc.schema === "cncfdemo.bootstrap/v1" || doc.schema === "cncfdemo.rollout/v1") {
      out.push(doc);
    }
  }
  return out.sort((a, b) => a.started_at.localeCompare(b.started_at));
}

Deno.test("report: sim, local and AWS records made here, side by side in JSON, Markdown and HTML", async () => {
  const sb = await sandbox();
  const results = `${sb.dir}/results`;
  const name = `rp-${crypto.randomUUID().slice(0, 6)}`;
  const nginx = await startNginx();
  let simUp = false;
  try {
    // sim: the demo (bootstrap + rollout, one session), then a rollout that changes nothing.
    const demo = await sb.task("demo.ts", [
      "--name",
      name,
      "--nodes",
      "2",
      "--results-dir",
      results,
    ]);
    simUp = true;
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(
      demo.stderr,
      /✓ First good request .* skipped: context sim-rp-\w+ is a simulated cluster/,
    );
    const again = await sb.task("rollout.ts", [
      "--set",
      "mongo.persistence.enabled=false",
      "--results-dir",
      results,
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Nothing changed: all 49 objects unchanged\.\nRecord: /);

    // local: wrk on this machine; the second run changes a parameter.
    for (const connections of ["4", "8"]) {
      const b = await sb.task("bench.ts", [
        "--local",
        "--url",
        nginx.url,
        "--time",
        "1s",
        "--connections",
        connections,
        "--results-dir",
        results,
      ]);
      assert.equal(b.code, 0, b.stderr);
    }

    // aws: bootstrap:aws --no-wait against moto.
    const aws = await awsRecords(results);
    assert.match(aws, /Record: .*\.json/);

    const records = await recordsIn(results);
    const [simBoot, simRoll, simAgain, awsBoot] = [
      records.find((r) => r.schema === "cncfdemo.bootstrap/v1" && r.model === "sim")!,
      records.find((r) => r.schema === "cncfdemo.rollout/v1" && r.outcome.created > 0)!,
      records.find((r) => r.schema === "cncfdemo.rollout/v1" && r.outcome.unchanged > 0)!,
      records.find((r) => r.schema === "cncfdemo.bootstrap/v1" && r.model === "aws")!,
    ] as [BootstrapRecord, RolloutRecord, RolloutRecord, BootstrapRecord];
    assert.equal(records.length, 4);
    // The demo's two records share its session and its clock; the rollout starts after the bootstrap.
    assert.equal(simBoot.session, simRoll.session);
    assert.equal(simBoot.command, "demo");
    assert.ok(simRoll.steps_start_ms >= simBoot.steps_start_ms + simBoot.total_ms);
    assert.equal(simBoot.existed, false);
    assert.deepEqual(simBoot.nodes, { count: 2, simulated: 2, types: { kwok: 2 } });
    assert.equal(simRoll.first_good_request, null);
    assert.match(simRoll.first_good_request_note!, /simulated by kwok and run no containers/);
    assert.equal(simAgain.command, "rollout");
    assert.equal(simAgain.objects, 49);
    assert.deepEqual(awsBoot.nodes.types, { "t3.medium": 2 });
    assert.equal(awsBoot.region, "us-east-1");
    assert.match(awsBoot.endpoint!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(awsBoot.api_calls! > 10);
    assert.ok(awsBoot.phases.some((p) => p.key === "Network and identity › VPC"));

    // A corrupt file among them is named and skipped.
    await Deno.writeTextFile(`${results}/broken.json`, '{"schema": "cncfdemo.bench/v1",');

    // JSON
    const json = await sb.task("report.ts", [
      "--results-dir",
      results,
      "--format",
      "json",
      "--out",
      `${results}/report.json`,
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout, `${results}/report.json\n`);
    assert.match(
      json.stderr,
      new RegExp(`warning: Skipping ${results}/broken.json: not valid JSON`),
    );
    assert.match(json.stderr, /Report: sim, local, aws from 6 records \(1 skipped\)/);
    const r = JSON.parse(await Deno.readTextFile(`${results}/report.json`)) as Report;
    assert.equal(r.schema, "cncfdemo.report/v1");
    assert.deepEqual(r.models.map((m) => m.model), ["sim", "local", "aws"]);
    const [sim, local, awsm] = r.models as [
      Report["models"][0],
      Report["models"][0],
      Report["models"][0],
    ];
    // Every phase of every record is in its group.
    for (
      const [group, rec] of [
        [sim.bootstrap[0]!, simBoot],
        [sim.rollout.find((g) => g.change === "fresh")!, simRoll],
        [sim.rollout.find((g) => g.change === "unchanged")!, simAgain],
        [awsm.bootstrap[0]!, awsBoot],
      ] as const
    ) {
      assert.deepEqual(group.phases.map((p) => p.key), rec.phases.map((p) => p.key));
      assert.deepEqual(group.phases.map((p) => p.ms.median), rec.phases.map((p) => p.ms));
    }
    // Costs: AWS from the price table (2 × t3.medium in us-east-1), local from the machine's.
    assert.equal(awsm.bootstrap[0]!.cost.usd_per_hour, 2 * 0.0416);
    const perHour = localCostPerHour(shippedPrices().local);
    assert.equal(sim.bootstrap[0]!.cost.usd_per_hour, perHour);
    assert.equal(local.bench.length, 2); // a changed parameter: its own group
    assert.deepEqual(local.bench.map((g) => g.params.connections), [4, 8]);
    for (const g of local.bench) {
      assert.ok(g.representative.rps > 0);
      assert.equal(g.usd_per_million, costPerMillion(perHour, g.representative.rps));
      assert.ok(g.spectrum.length > 0);
    }
    assert.deepEqual(r.skipped.map((s) => s.file), [`${results}/broken.json`]);
    assert.ok(r.gantt.some((g) => g.model === "aws" && g.kind === "bootstrap"));
    assert.ok(r.gantt.some((g) => g.model === "sim" && g.kind === "rollout"));
    assert.match(r.calibration.notes.join(" "), /No like runs/);

    // Markdown: every model, every AWS phase, the cost columns.
    const md = await sb.task("report.ts", ["--results-dir", results, "--format", "md"]);
    assert.equal(md.code, 0, md.stderr);
    for (const model of ["sim", "local", "aws"]) {
      assert.match(md.stdout, new RegExp(`\\n\\| ${model} \\|`));
    }
    for (const p of awsBoot.phases) {
      assert.ok(md.stdout.includes(`| ${"· ".repeat(p.depth)}${p.name} |`), p.name);
    }
    assert.match(md.stdout, /\| cost\/hour \| cost per million requests \|/);
    assert.match(md.stdout, /\$0\.0832\/h/);

    // HTML, in Chromium: renders offline, charts drawn, not blank.
    const html = await sb.task("report.ts", ["--results-dir", results]);
    assert.equal(html.code, 0, html.stderr);
    assert.equal(html.stdout, `${results}/report.html\n`);
    const text = await Deno.readTextFile(`${results}/report.html`);
    assert.doesNotMatch(text, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
    assert.doesNotMatch(text, /sourceMappingURL/);
    const page = await openInChromium(`${results}/report.html`, `${results}/report.png`);
    assert.equal(page.rendered, "ok");
    assert.deepEqual(page.problems, []);
    assert.deepEqual(page.requests, [`file://${results}/report.html`]);
    assert.deepEqual(page.canvases.map((c) => c.id), ["gantt", "spectra"]);
    for (const c of page.canvases) {
      assert.ok(c.inked > c.size * 0.01, `${c.id}: ${c.inked} of ${c.size}`);
    }
    for (
      const s of [
        "Network and identity",
        "Apply in waves",
        "cost per million requests",
        "Calibration",
      ]
    ) {
      assert.ok(page.text.includes(s), s);
    }
    assert.ok(page.colours > 50, `${page.colours} colours`);
    assert.ok(page.nonWhite > page.pixels * 0.02, `${page.nonWhite} non-white pixels`);
  } finally {
    await nginx.stop();
    const down = simUp
      ? await sb.task("teardown.ts", ["--provider", "sim", "--name", name])
      : undefined;
    await sb.cleanup();
    if (down) assert.equal(down.code, 0, down.stderr);
  }
});

Deno.test("report: bad input is one line each, and nothing is half-written", async () => {
  const sb = await sandbox();
  try {
    const dir = `${sb.dir}/results`;
    await Deno.mkdir(dir);
    const run = (args: string[]) => sb.task("report.ts", ["--results-dir", dir, ...args]);

    const empty = await run([]);
    assert.equal(empty.code, 2);
    assert.match(
      empty.stderr,
      /^error: No records in .*: make some with deno task demo, bench, bootstrap:\* or rollout, or pass --results-dir\n$/,
    );
    const missing = await sb.task("report.ts", ["--results-dir", `${sb.dir}/nope`]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /^error: Cannot read results from .*\/nope: no such directory; [^\n]*\n$/,
    );

    // Only a corrupt file: named, skipped, and then nothing is left to report.
    await Deno.writeTextFile(`${dir}/corrupt.json`, "{ not json");
    const corrupt = await run([]);
    assert.equal(corrupt.code, 2);
    const lines = corrupt.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 2, corrupt.stderr);
    assert.match(
      lines[0]!,
      new RegExp(`^warning: Skipping ${dir}/corrupt\\.json: not valid JSON \\(`),
    );
    assert.match(lines[1]!, /^error: No records in .* \(1 file\(s\) skipped\)/);

    // With a record beside it, the report is made and the corrupt file only named.
    await Deno.writeTextFile(
      `${dir}/e1.json`,
      JSON.stringify({
        schema: "cncfdemo.experiment/v1",
        id: "e1",
        kind: "chaos",
        started_at: "2026-01-01T00:00:00Z",
        model: "local",
        figures: { recovery_s: 4.2, errors: 17 },
      }),
    );
    const ok = await run(["--format", "md"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /warning: Skipping .*corrupt\.json/);
    assert.match(ok.stdout, /\| chaos \| e1 \| recovery_s: 4\.2; errors: 17 \|/);
    await Deno.remove(`${dir}/corrupt.json`);

    // A price file with an unknown instance type fails before anything is written.
    await Deno.writeTextFile(
      `${sb.dir}/prices.json`,
      JSON.stringify({ aws: { regions: { "eu-west-1": { "t3.meduim": 0.05 } } } }),
    );
    const before = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    const prices = await run(["--prices", `${sb.dir}/prices.json`, "--out", `${dir}/out.html`]);
    assert.equal(prices.code, 2);
    assert.equal(
      prices.stderr,
      `error: Cannot use the price file ${sb.dir}/prices.json: unknown instance type "t3.meduim" in aws.regions.eu-west-1 (expected an EC2 instance type like t3.medium)\n`,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), before);

    const cases: [string[], RegExp][] = [
      [["--format", "pdf"], /^error: .*--format.*one of html, md, json/],
      [["--local-lifetime-years", "0"], /^error: .*--local-lifetime-years.*a number > 0/],
      [
        ["--prices", `${sb.dir}/none.json`],
        /^error: Cannot read the price file .*none\.json: no such file\n$/,
      ],
    ];
    for (const [args, error] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, error);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), before);
  } finally {
    await sb.cleanup();
  }
});
