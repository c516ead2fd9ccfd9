import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import {
  applyOverrides,
  clusterCost,
  costPerMillion,
  isInstanceType,
  localCostPerHour,
  parsePriceFile,
  shippedPrices,
} from "./prices.ts";

const close = (a: number | null, b: number) =>
  assert.ok(a !== null && Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

Deno.test("cost per million requests: cost per hour ÷ (requests/s × 3,600) × 10⁶", () => {
  close(costPerMillion(3.6, 1_000), 1); // $3.60/h at 1,000 req/s: 3.6M requests per hour cost $3.60
  close(costPerMillion(0.1824, 500), 0.1824 / 1.8); // 1.8M requests per hour
  close(costPerMillion(1, 0.5), 1 / 1_800 * 1_000_000);
  assert.equal(costPerMillion(1, 0), null);
  assert.equal(costPerMillion(1, Number.NaN), null);
});

Deno.test("the local machine: hardware over its lifetime plus energy", () => {
  const hours = 365.25 * 24;
  close(
    localCostPerHour({
      what: "",
      source: "",
      hardware_cost: hours,
      lifetime_years: 1,
      watts: 0,
      energy_per_kwh: 0.3,
    }),
    1,
  );
  close(
    localCostPerHour({
      what: "",
      source: "",
      hardware_cost: 2 * hours,
      lifetime_years: 2,
      watts: 100,
      energy_per_kwh: 0.2,
    }),
    1.02,
  );
  // The shipped defaults: $1,200 over 3 years + 65 W at $0.15/kWh.
  close(localCostPerHour(shippedPrices().local), 1200 / (3 * hours) + 0.065 * 0.15);
});

Deno.test("a cluster's cost: instance types × the region's prices; sim and local price this machine", () => {
  const p = shippedPrices();
  const aws = clusterCost({ model: "aws", types: { "t3.medium": 4 }, region: "eu-west-1" }, p);
  assert.ok(aws.usd_per_hour !== null);
  close(aws.usd_per_hour, 4 * 0.0456);
  assert.match(aws.basis, /4× t3\.medium at \$0\.0456\/h \(eu-west-1, On-Demand\)/);
  const sim = clusterCost({ model: "sim", types: { kwok: 3 } }, p);
  close(sim.usd_per_hour, localCostPerHour(p.local));
  assert.deepEqual(clusterCost({ model: "aws", types: { "t3.nano": 1 }, region: "us-east-1" }, p), {
    usd_per_hour: null,
    why: "no price for t3.nano in us-east-1 (add it with --prices FILE)",
  });
  assert.equal(
    clusterCost({ model: "aws", types: { "t3.medium": 1 }, region: null }, p).usd_per_hour,
    null,
  );
  assert.equal(clusterCost({ model: "kubernetes", types: {} }, p).usd_per_hour, null);
});

Deno.test("price files: overrides merge over the shipped table", () => {
  const o = parsePriceFile(
    JSON.stringify({
      aws: {
        read: "2026-01-01",
        regions: { "eu-west-1": { "t3.medium": 0.05, "m6i.large": 0.1 } },
      },
      local: { hardware_cost: 3000 },
    }),
    "p.json",
  );
  const p = applyOverrides(shippedPrices(), o, "price file p.json");
  assert.equal(p.aws.regions["eu-west-1"]!["t3.medium"], 0.05);
  assert.equal(p.aws.regions["eu-west-1"]!["m6i.large"], 0.1);
  assert.equal(p.aws.regions["eu-west-1"]!["t3.large"], 0.0912); // kept
  assert.equal(p.aws.read, "2026-01-01");
  assert.equal(p.local.hardware_cost, 3000);
  assert.equal(p.local.lifetime_years, 3); // kept
  assert.deepEqual(p.overrides, ["price file p.json"]);
  assert.equal(shippedPrices().local.hardware_cost, 1200); // the shipped table is untouched
});

Deno.test("price files: what is wrong is one line naming the file", () => {
  const cases: [unknown, string][] = [
    [
      { aws: { regions: { "us-east-1": { "t3.meduim": 0.04 } } } },
      'Cannot use the price file p.json: unknown instance type "t3.meduim" in aws.regions.us-east-1 (expected an EC2 instance type like t3.medium)',
    ],
    [
      { aws: { regions: { "us-east-9": { "t3.medium": 0.04 } } } },
      'Cannot use the price file p.json: unknown AWS region "us-east-9" in aws.regions (expected e.g. eu-west-1)',
    ],
    [
      { aws: { regions: { "us-east-1": { "t3.medium": -1 } } } },
      "Cannot use the price file p.json: aws.regions.us-east-1.t3.medium is -1, not a price > 0",
    ],
    [
      { gcp: {} },
      'Cannot use the price file p.json: unknown key "gcp" (expected schema, currency, aws, local)',
    ],
    [
      { local: { lifetime_years: 0 } },
      "Cannot use the price file p.json: local.lifetime_years is 0, not a number > 0",
    ],
    [{ currency: "EUR" }, 'Cannot use the price file p.json: currency "EUR": prices are in USD'],
  ];
  for (const [doc, message] of cases) {
    assert.throws(() => parsePriceFile(JSON.stringify(doc), "p.json"), (err) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.message, message);
      return true;
    });
  }
  assert.throws(
    () => parsePriceFile("{", "p.json"),
    /^UsageError: Cannot use the price file p\.json: not valid JSON/,
  );
});

Deno.test("instance types: a known family and a size", () => {
  for (const t of ["t3.medium", "m5.2xlarge", "c7i-flex.large", "m7g.metal", "r6i.32xlarge"]) {
    assert.ok(isInstanceType(t), t);
  }
  for (const t of ["t3.meduim", "x9.large", "t3", "medium", "t3.medium.x", ".large"]) {
    assert.ok(!isInstanceType(t), t);
  }
});
