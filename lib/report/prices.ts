/**
 * Prices for the report, shipped as data (`prices.json`: AWS On-Demand prices of the instance types
 * cncfdemo uses, per region, with where and when they were read; and the `local` machine: a
 * hardware cost spread over a lifetime, plus power), overridable by a price file of the same shape
 * (`--prices FILE`, any part of it) and by flags for the local machine. Nothing is fetched.
 *
 * Cost per million requests = cost per hour ÷ (requests per second × 3,600) × 1,000,000, at the
 * throughput a benchmark measured (and only meaningful with the p99 it was measured at).
 */
import { validateRegion } from "../aws/regions.ts";
import { errorMessage, UsageError } from "../errors.ts";
import shipped from "./prices.json" with { type: "json" };

export interface AwsPrices {
  what: string;
  source: string;
  /** When the prices were read, and how. */
  read: string;
  note: string;
  /** region → instance type → USD per hour. */
  regions: Record<string, Record<string, number>>;
}

export interface LocalPrices {
  what: string;
  source: string;
  /** What the machine cost (USD). */
  hardware_cost: number;
  /** Over how many years it is written off. */
  lifetime_years: number;
  /** Its average power draw (W) and what energy costs (USD per kWh). */
  watts: number;
  energy_per_kwh: number;
}

export interface Prices {
  schema: "cncfdemo.prices/v1";
  currency: "USD";
  aws: AwsPrices;
  local: LocalPrices;
  /** Where overrides came from (a price file, flags), in the order applied. */
  overrides: string[];
}

/** The prices shipped with cncfdemo. */
export function shippedPrices(): Prices {
  return structuredClone({ ...shipped, overrides: [] }) as Prices;
}

const HOURS_PER_YEAR = 365.25 * 24;

/** The local machine's cost per hour: hardware over its lifetime plus energy. */
export function localCostPerHour(l: LocalPrices): number {
  return l.hardware_cost / (l.lifetime_years * HOURS_PER_YEAR) +
    (l.watts / 1_000) * l.energy_per_kwh;
}

/** USD per million requests at `rps` for a cluster costing `usdPerHour`; null without throughput. */
export function costPerMillion(usdPerHour: number, rps: number): number | null {
  if (!(rps > 0) || !Number.isFinite(usdPerHour)) return null;
  return (usdPerHour / (rps * 3_600)) * 1_000_000;
}

/** EC2 instance families cncfdemo knows (current and recent generations). */
const FAMILIES = new Set(
  [
    "a1",
    "t2 t3 t3a t4g",
    "m4 m5 m5a m5ad m5d m5dn m5n m5zn m6a m6g m6gd m6i m6id m6idn m6in m7a m7g m7gd m7i m7i-flex m8g m8gd",
    "c4 c5 c5a c5ad c5d c5n c6a c6g c6gd c6gn c6i c6id c6in c7a c7g c7gd c7gn c7i c7i-flex c8g c8gd",
    "r4 r5 r5a r5ad r5b r5d r5dn r5n r6a r6g r6gd r6i r6id r6idn r6in r7a r7g r7gd r7i r7iz r8g r8gd",
    "x1 x1e x2gd x2idn x2iedn x2iezn x8g z1d u-3tb1 u-6tb1",
    "d2 d3 d3en h1 i3 i3en i4g i4i im4gn is4gen",
    "g4ad g4dn g5 g5g g6 g6e gr6 p3 p3dn p4d p4de p5 p5e inf1 inf2 trn1 trn1n dl1 f1 f2 vt1 hpc6a hpc7a hpc7g",
  ].join(" ").split(" "),
);
const SIZE = /^(nano|micro|small|medium|large|xlarge|\d+xlarge|metal(-\d+xl)?)$/;

/** Whether a name is an EC2 instance type: a known family and a size (`t3.medium`). */
export function isInstanceType(type: string): boolean {
  const dot = type.indexOf(".");
  return dot > 0 && FAMILIES.has(type.slice(0, dot)) && SIZE.test(type.slice(dot + 1));
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A price file, parsed and checked: any part of the shipped table's shape. */
export interface PriceOverrides {
  aws?: Partial<AwsPrices>;
  local?: Partial<LocalPrices>;
}

/** Parses a price file's text; bad content is one line naming the file and what is wrong. */
export function parsePriceFile(text: string, path: string): PriceOverrides {
  const bad = (what: string) => new UsageError(`Cannot use the price file ${path}: ${what}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(`not valid JSON (${errorMessage(err)})`);
  }
  if (!isObject(doc)) throw bad("expected a JSON object with aws and/or local");
  const only = (o: Record<string, unknown>, where: string, keys: string[]) => {
    for (const k of Object.keys(o)) {
      if (!keys.includes(k)) {
        throw bad(`unknown key "${k}"${where ? ` in ${where}` : ""} (expected ${keys.join(", ")})`);
      }
    }
  };
  only(doc, "", ["schema", "currency", "aws", "local"]);
  if (doc.schema !== undefined && doc.schema !== "cncfdemo.prices/v1") {
    throw bad(`schema "${String(doc.schema)}" is not cncfdemo.prices/v1`);
  }
  if (doc.currency !== undefined && doc.currency !== "USD") {
    throw bad(`currency "${String(doc.currency)}": prices are in USD`);
  }
  const out: PriceOverrides = {};
  const text_ = (o: Record<string, unknown>, k: string, where: string) => {
    if (o[k] !== undefined && typeof o[k] !== "string") throw bad(`${where}.${k} is not text`);
  };
  if (doc.aws !== undefined) {
    if (!isObject(doc.aws)) throw bad("aws is not an object");
    const aws = doc.aws;
    only(aws, "aws", ["what", "source", "read", "note", "regions"]);
    for (const k of ["what", "source", "read", "note"]) text_(aws, k, "aws");
    if (aws.regions !== undefined) {
      if (!isObject(aws.regions)) throw bad("aws.regions is not an object");
      for (const [region, types] of Object.entries(aws.regions)) {
        if (validateRegion(region)) {
          throw bad(`unknown AWS region "${region}" in aws.regions (expected e.g. eu-west-1)`);
        }
        if (!isObject(types)) throw bad(`aws.regions.${region} is not an object`);
        for (const [type, price] of Object.entries(types)) {
          if (!isInstanceType(type)) {
            throw bad(
              `unknown instance type "${type}" in aws.regions.${region} (expected an EC2 instance type like t3.medium)`,
            );
          }
          if (typeof price !== "number" || !Number.isFinite(price) || price <= 0) {
            throw bad(`aws.regions.${region}.${type} is ${JSON.stringify(price)}, not a price > 0`);
          }
        }
      }
    }
    out.aws = aws as Partial<AwsPrices>;
  }
  if (doc.local !== undefined) {
    if (!isObject(doc.local)) throw bad("local is not an object");
    const local = doc.local;
    only(local, "local", [
      "what",
      "source",
      "hardware_cost",
      "lifetime_years",
      "watts",
      "energy_per_kwh",
    ]);
    for (const k of ["what", "source"]) text_(local, k, "local");
    for (const k of ["hardware_cost", "lifetime_years", "watts", "energy_per_kwh"]) {
      const v = local[k];
      if (v === undefined) continue;
      const positive = k === "lifetime_years"; // a lifetime must be > 0; the rest may be 0
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (positive && v === 0)) {
        throw bad(`local.${k} is ${JSON.stringify(v)}, not a number ${positive ? "> 0" : "≥ 0"}`);
      }
    }
    out.local = local as Partial<LocalPrices>;
  }
  return out;
}

/** The prices with a price file's overrides applied on top. */
export function applyOverrides(base: Prices, o: PriceOverrides, from: string): Prices {
  const p = structuredClone(base);
  if (o.aws) {
    const { regions, ...rest } = o.aws;
    Object.assign(p.aws, rest);
    for (const [region, types] of Object.entries(regions ?? {})) {
      p.aws.regions[region] = { ...p.aws.regions[region], ...types };
    }
  }
  if (o.local) Object.assign(p.local, o.local);
  p.overrides.push(from);
  return p;
}

/** Reads a price file and applies it; one line when it cannot be read or is wrong. */
export async function loadPrices(file?: string): Promise<Prices> {
  const base = shippedPrices();
  if (!file) return base;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : errorMessage(err);
    throw new UsageError(`Cannot read the price file ${file}: ${why}`);
  }
  return applyOverrides(base, parsePriceFile(text, file), `price file ${file}`);
}

/** What a cluster is, for pricing. */
export interface PricedCluster {
  model: string;
  /** Instance type (or kwok/local) → count. */
  types: Record<string, number>;
  region?: string | null;
}

/** A cluster's cost per hour, or why there is none. */
export type Cost =
  | { usd_per_hour: number; basis: string }
  | { usd_per_hour: null; why: string };

/** What a cluster costs per hour at these prices. */
export function clusterCost(c: PricedCluster, p: Prices): Cost {
  if (c.model === "sim" || c.model === "local") {
    const l = p.local;
    return {
      usd_per_hour: localCostPerHour(l),
      basis: `this machine: ${
        fmtUsd(l.hardware_cost)
      } over ${l.lifetime_years} years + ${l.watts} W at ${fmtUsd(l.energy_per_kwh)}/kWh`,
    };
  }
  if (c.model !== "aws") {
    return { usd_per_hour: null, why: `no prices for a ${c.model} cluster` };
  }
  if (!c.region) {
    return { usd_per_hour: null, why: "region unknown (no bootstrap:aws record for this cluster)" };
  }
  const table = p.aws.regions[c.region];
  if (!table) {
    return {
      usd_per_hour: null,
      why: `no prices for ${c.region} (add them with --prices FILE)`,
    };
  }
  let sum = 0;
  const parts: string[] = [];
  for (const [type, n] of Object.entries(c.types)) {
    const price = table[type];
    if (price === undefined) {
      return {
        usd_per_hour: null,
        why: `no price for ${type} in ${c.region} (add it with --prices FILE)`,
      };
    }
    sum += price * n;
    parts.push(`${n}× ${type} at ${fmtUsd(price)}/h`);
  }
  if (!parts.length) return { usd_per_hour: null, why: "instance types unknown" };
  return { usd_per_hour: sum, basis: `${parts.join(" + ")} (${c.region}, On-Demand)` };
}

/** USD with enough digits for cents-per-hour figures. */
export function fmtUsd(v: number): string {
  if (v !== 0 && Math.abs(v) < 0.01) return `$${Number(v.toPrecision(3))}`;
  const digits = v >= 100 ? 0 : v >= 1 ? 2 : 4;
  return `$${v.toLocaleString("en-US", { maximumFractionDigits: digits })}`;
}
