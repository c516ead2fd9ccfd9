/**
 * The demo stack's values: typed defaults, overridden by `--values FILE` (YAML) and repeated
 * `--set path=value`. Every key and type is checked against the defaults before anything is
 * rendered or applied; errors name the key, and the file and line when a file is the source.
 */
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { UsageError } from "../errors.ts";
import { CATALOG, splitRef } from "../images/catalog.ts";
import { parseQuantity } from "../quantity.ts";
import { MIN_NODE_HEAP_MIB, nodeHeapMiB } from "./sizing.ts";
import { checkSwitches } from "./switches.ts";

export interface ImageRef {
  registry: string;
  repository: string;
  tag: string;
}

/** The defaults; their shape is the schema. */
export const DEFAULT_VALUES = {
  /** Namespace of the application (MongoDB, Countly, BOINC). */
  namespace: "cncfdemo",
  /** Namespace of Prometheus, Pushgateway, node-exporter and Grafana. */
  monitoringNamespace: "monitoring",
  /** From the one image catalog (lib/images/catalog.ts), shared with bake and bench. */
  images: {
    prometheus: splitRef(CATALOG.prometheus.ref),
    pushgateway: splitRef(CATALOG.pushgateway.ref),
    nodeExporter: splitRef(CATALOG["node-exporter"].ref),
    grafana: splitRef(CATALOG.grafana.ref),
    mongo: splitRef(CATALOG.mongo.ref),
    countlyApi: splitRef(CATALOG["countly-api"].ref),
    countlyFrontend: splitRef(CATALOG["countly-frontend"].ref),
    boinc: splitRef(CATALOG.boinc.ref),
    benchTarget: splitRef(CATALOG["bench-target"].ref),
    /** Countly's router: nginx from the bench target's image (ours, built offline). */
    countlyRouter: splitRef(CATALOG["bench-target"].ref),
  },
  priorities: {
    /** Countly and MongoDB: may preempt background work. */
    high: 100_000,
    /** BOINC: yields to everything else. */
    low: -100,
  },
  prometheus: {
    enabled: true,
    retention: "7d",
    scrapeInterval: "15s",
    cpuRequest: "250m",
    memoryRequest: "512Mi",
    memoryLimit: "2Gi",
  },
  pushgateway: { enabled: true, cpuRequest: "50m", memoryRequest: "64Mi", memoryLimit: "256Mi" },
  nodeExporter: { enabled: true, cpuRequest: "50m", memoryRequest: "32Mi", memoryLimit: "128Mi" },
  grafana: {
    /** Needs Prometheus (its one data source). */
    enabled: true,
    adminUser: "admin",
    cpuRequest: "100m",
    memoryRequest: "128Mi",
    memoryLimit: "512Mi",
  },
  mongo: {
    /** All of MongoDB: mongo-config, mongo-shard, mongos, mongo-init. It serves only Countly. */
    enabled: true,
    /** Members of the config-server replica set. */
    configReplicas: 3,
    /** Number of shard replica sets. */
    shards: 2,
    /** Members of each shard replica set. */
    shardReplicas: 3,
    mongosReplicas: 2,
    cpuRequest: "250m",
    memoryRequest: "512Mi",
    memoryLimit: "2Gi",
    persistence: {
      /** Volume claims for the data; off means emptyDir (data lost with the pod). */
      enabled: true,
      size: "10Gi",
      /** Empty: the cluster's default StorageClass. */
      storageClass: "",
    },
  },
  countly: {
    /** Countly's API and dashboard. Needs MongoDB. */
    enabled: true,
    api: {
      minReplicas: 2,
      maxReplicas: 10,
      /** Average CPU utilisation (% of request) the autoscaler aims for. */
      targetCpuUtilization: 70,
      /**
       * API worker processes per pod (Countly's api.workers; upstream defaults to the node's CPU
       * count, whatever the pod's limit). Each, and the master, gets an equal share of the Node.js
       * heap under the memory limit (lib/stack/sizing.ts).
       */
      workers: 2,
      cpuRequest: "500m",
      cpuLimit: "2",
      memoryRequest: "512Mi",
      memoryLimit: "1Gi",
    },
    dashboard: {
      /** The dashboard alone (the API stays). */
      enabled: true,
      cpuRequest: "250m",
      memoryRequest: "256Mi",
      memoryLimit: "1Gi",
    },
    /**
     * One origin for the browser (Service countly, port 80): nginx routes /i and /o to the API
     * and everything else to the dashboard, as upstream's nginx does. Part of the dashboard.
     */
    router: {
      cpuRequest: "50m",
      cpuLimit: "500m",
      memoryRequest: "32Mi",
      memoryLimit: "128Mi",
    },
  },
  boinc: {
    enabled: true,
    /** Background workers: size them to fill the idle capacity. */
    replicas: 2,
    /**
     * The project's master URL (BOINC's project list). Einstein@Home has work for 64-bit Linux
     * CPUs; the original demo's Zika project (OpenZika on World Community Grid) is finished.
     */
    projectUrl: "https://einstein.phys.uwm.edu/",
    /**
     * Account key for the project (the client attaches only when it is given); goes into a
     * Secret. Give it with --set or a values file; never commit it.
     */
    accountKey: "",
    cpuRequest: "500m",
    /** BOINC gets at most this much CPU even when the node is idle: priority alone does not stop CPU contention. */
    cpuLimit: "1",
    memoryRequest: "256Mi",
    memoryLimit: "512Mi",
  },
  /**
   * A static HTTP server (Deployment and Service bench-target, port 80): a benchmark target that
   * isolates the platform's data plane from the application. Off by default.
   */
  benchTarget: {
    enabled: false,
    replicas: 1,
    cpuRequest: "100m",
    cpuLimit: "1",
    memoryRequest: "32Mi",
    memoryLimit: "128Mi",
  },
};

/** Widens literal types so user values of the same shape fit. */
type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean
: { [K in keyof T]: Widen<T[K]> };

export type Values = Widen<typeof DEFAULT_VALUES>;

type Checker = (v: unknown) => string | undefined;
const quantity: Checker = (
  v,
) => (parseQuantity(String(v)) !== undefined ? undefined : "a quantity like 500m or 512Mi");
const intMin = (min: number, max = Number.MAX_SAFE_INTEGER): Checker => (v) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max
    ? undefined
    : `a whole number from ${min} to ${max}`;
const dnsLabel: Checker = (v) =>
  /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(String(v))
    ? undefined
    : "a DNS label (lowercase letters, digits, '-')";
const duration: Checker = (
  v,
) => (/^\d+[smhdwy]$/.test(String(v)) ? undefined : "a Prometheus duration like 15s or 7d");

/** Extra checks beyond the type, by key path; keys ending in Request/Limit are quantities. */
const CHECKS: Record<string, Checker> = {
  namespace: dnsLabel,
  monitoringNamespace: dnsLabel,
  "mongo.configReplicas": intMin(1, 7),
  "mongo.shards": intMin(1, 16),
  "mongo.shardReplicas": intMin(1, 7),
  "mongo.mongosReplicas": intMin(1, 100),
  "mongo.persistence.size": quantity,
  "countly.api.minReplicas": intMin(1, 1000),
  "countly.api.maxReplicas": intMin(1, 1000),
  "countly.api.targetCpuUtilization": intMin(1, 100),
  "countly.api.workers": intMin(1, 64),
  "boinc.replicas": intMin(0, 10_000),
  "boinc.projectUrl": (v) =>
    /^https?:\/\/[^\s/]+(\/[^\s]*)?\/$/.test(String(v))
      ? undefined
      : "a BOINC master URL like https://einstein.phys.uwm.edu/ (ending in /)",
  "boinc.accountKey": (v) =>
    /^[A-Za-z0-9_]*$/.test(String(v)) ? undefined : "an account key (letters and digits) or empty",
  "benchTarget.replicas": intMin(1, 1000),
  "prometheus.retention": duration,
  "prometheus.scrapeInterval": duration,
};

function checkerFor(path: string): Checker | undefined {
  if (CHECKS[path]) return CHECKS[path];
  if (/(Request|Limit)$/.test(path)) return quantity;
  if (/^images\.\w+\.(registry|repository|tag)$/.test(path)) {
    return (
      v,
    ) => (String(v).length > 0 && !/\s/.test(String(v))
      ? undefined
      : "a non-empty image reference part");
  }
  return undefined;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a group of values";
  return `a ${typeof v}`;
}

function describeValue(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : typeof v === "object" ? typeName(v) : String(v);
}

/** Likely intended keys for a mistyped one: by prefix or substring, else by edit distance. */
function closest(word: string, options: string[]): string[] {
  const w = word.toLowerCase();
  if (w.length >= 4) {
    const prefixed = options.filter((o) => o.toLowerCase().startsWith(w));
    if (prefixed.length >= 1 && prefixed.length <= 3) return prefixed;
    const containing = options.filter((o) => o.toLowerCase().includes(w));
    if (containing.length >= 1 && containing.length <= 3) return containing;
  }
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        d[i]![j] = Math.min(
          d[i - 1]![j]! + 1,
          d[i]![j - 1]! + 1,
          d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
      }
    }
    return d[a.length]![b.length]!;
  };
  const best =
    options.map((o) => [o, dist(w, o.toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(word.length / 3)) ? [best[0]] : [];
}

type Where = (path: string[]) => string;

/** Merges `override` into `base` (a copy), checking keys, types and ranges against the defaults. */
function mergeChecked(
  base: Record<string, unknown>,
  override: unknown,
  path: string[],
  where: Where,
): void {
  const here = path.join(".");
  if (override === null || typeof override !== "object" || Array.isArray(override)) {
    throw new UsageError(
      `Value ${here || "(top level)"}${where(path)} must be a group of values, got ${
        describeValue(override)
      }`,
    );
  }
  for (const [key, value] of Object.entries(override as Record<string, unknown>)) {
    const p = [...path, key];
    const name = p.join(".");
    if (!(key in base)) {
      const hints = closest(key, Object.keys(base)).map((h) => [...path, h].join("."));
      throw new UsageError(
        `Unknown value ${name}${where(p)}: ${
          hints.length
            ? `did you mean ${hints.join(" or ")}?`
            : `known keys here are ${Object.keys(base).join(", ")}`
        }`,
      );
    }
    const current = base[key];
    if (typeof current === "object" && current !== null) {
      mergeChecked(current as Record<string, unknown>, value, p, where);
      continue;
    }
    if (typeof value !== typeof current) {
      throw new UsageError(
        `Value ${name}${where(p)} must be ${typeName(current)}, got ${describeValue(value)}`,
      );
    }
    const problem = checkerFor(name)?.(value);
    if (problem) {
      throw new UsageError(
        `Value ${name}${where(p)} must be ${problem}, got ${describeValue(value)}`,
      );
    }
    base[key] = value;
  }
}

/** Parses `--set path=value`, converting the text to the type of the default at that path. */
export function applySet(values: Values, assignment: string): void {
  const eq = assignment.indexOf("=");
  if (eq <= 0) {
    throw new UsageError(
      `Cannot parse --set "${assignment}": expected path=value, like countly.api.minReplicas=3`,
    );
  }
  const path = assignment.slice(0, eq).split(".");
  const raw = assignment.slice(eq + 1);
  let cursor: unknown = values;
  for (const key of path.slice(0, -1)) {
    cursor = (cursor as Record<string, unknown>)?.[key];
  }
  const last = path.at(-1)!;
  const current = (cursor as Record<string, unknown> | undefined)?.[last];
  let value: unknown = raw;
  if (typeof current === "number") {
    value = /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
  } else if (typeof current === "boolean") {
    value = raw === "true" ? true : raw === "false" ? false : raw;
  }
  const override: Record<string, unknown> = {};
  let node = override;
  for (const key of path.slice(0, -1)) node = (node[key] = {}) as Record<string, unknown>;
  node[last] = value;
  mergeChecked(
    values as unknown as Record<string, unknown>,
    override,
    [],
    () => ` (from --set ${assignment})`,
  );
}

/** The defaults, then each values file, then each --set, all checked. */
export async function resolveValues(
  files: readonly string[],
  sets: readonly string[],
): Promise<Values> {
  const values = structuredClone(DEFAULT_VALUES) as Values;
  for (const file of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (err) {
      throw new UsageError(
        `Cannot read values file ${file}: ${
          err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message
        }`,
      );
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      const line = lines.linePos(e.pos[0]).line;
      throw new UsageError(
        `Cannot parse values file ${file} line ${line}: ${e.message.split("\n")[0]}`,
      );
    }
    const where: Where = (path) => {
      // the line of the deepest node that exists along the path
      for (let n = path.length; n > 0; n--) {
        const node = doc.getIn(path.slice(0, n), true);
        if (node && (isScalar(node) || isMap(node)) && node.range) {
          return ` (${file} line ${lines.linePos(node.range[0]).line})`;
        }
        const parent = n > 1 ? doc.getIn(path.slice(0, n - 1), true) : doc.contents;
        if (isMap(parent)) {
          const pair = parent.items.find((it) =>
            isScalar(it.key) && String(it.key.value) === path[n - 1]
          );
          if (pair && isScalar(pair.key) && pair.key.range) {
            return ` (${file} line ${lines.linePos(pair.key.range[0]).line})`;
          }
        }
      }
      return ` (${file})`;
    };
    const data = doc.toJS();
    if (data === null || data === undefined) continue;
    mergeChecked(values as unknown as Record<string, unknown>, data, [], where);
  }
  for (const s of sets) applySet(values, s);
  if (values.countly.api.minReplicas > values.countly.api.maxReplicas) {
    throw new UsageError(
      `Value countly.api.minReplicas (${values.countly.api.minReplicas}) must not exceed countly.api.maxReplicas (${values.countly.api.maxReplicas})`,
    );
  }
  const processes = values.countly.api.workers + 1;
  const heap = nodeHeapMiB(values.countly.api.memoryLimit, processes);
  if (heap < MIN_NODE_HEAP_MIB) {
    throw new UsageError(
      `Value countly.api.workers (${values.countly.api.workers}) leaves ${heap} MiB of Node.js heap to each of Countly's ${processes} API processes under countly.api.memoryLimit ${values.countly.api.memoryLimit} (at least ${MIN_NODE_HEAP_MIB} MiB each): lower the workers or raise the limit`,
    );
  }
  checkSwitches(values);
  return values;
}

/** `registry/repository:tag`. */
export function imageOf(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}:${ref.tag}`;
}
