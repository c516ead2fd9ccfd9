/**
 * The one naming scheme for container images, shared by `bake --target images`, the stack's values,
 * `bench` and the `local` provider.
 *
 * - Our own images (`own: true`) are named `ghcr.io/cncfdemo/<name>:<version>` and are always built
 *   by `bake --target images` (no registry publishes them).
 * - Third-party images keep their upstream reference. Where the packages our machines reach can
 *   provide them (`recipe` set), an offline build carries that same reference, so manifests are
 *   identical whether the node pulled the image or had it imported (`--images offline|pull`).
 * - Images with no recipe (MongoDB, Countly, Grafana) can only be pulled.
 */
import { VERSIONS } from "../binaries.ts";

/** How an offline build makes an image. */
export type Recipe =
  /** Debian packages on a debootstrap'ed base, plus files from images/<name>/. */
  | { kind: "debian"; packages: readonly string[] }
  /** Static binaries from the binary cache (lib/binaries.ts) on an empty base. */
  | { kind: "go"; binaries: readonly string[] }
  /** A static C program (images/<name>/*.c) built with gcc -static. */
  | { kind: "static-c" };

export interface CatalogImage {
  /** Short name: images/<name>/ holds its files, values and tests refer to it by this name. */
  readonly name: string;
  /** The full reference: registry/repository:tag. */
  readonly ref: string;
  /** Ours (always built) or third-party (built offline where a recipe exists, pulled otherwise). */
  readonly own: boolean;
  /** How to build it offline; undefined: it can only be pulled. */
  readonly recipe?: Recipe;
  /** What runs it, for messages ("the rollout cannot pull … (component grafana)"). */
  readonly usedBy: string;
}

const own = (name: string, version: string) => `ghcr.io/cncfdemo/${name}:${version}`;

export const CATALOG = {
  pause: {
    name: "pause",
    ref: "registry.k8s.io/pause:3.10.1",
    own: false,
    recipe: { kind: "static-c" },
    usedBy: "every pod (the sandbox)",
  },
  coredns: {
    name: "coredns",
    ref: `registry.k8s.io/coredns/coredns:${VERSIONS.coredns}`,
    own: false,
    recipe: { kind: "go", binaries: ["coredns"] },
    usedBy: "cluster DNS",
  },
  "metrics-server": {
    name: "metrics-server",
    ref: `registry.k8s.io/metrics-server/metrics-server:${VERSIONS["metrics-server"]}`,
    own: false,
    recipe: { kind: "go", binaries: ["metrics-server"] },
    usedBy: "resource metrics (kubectl top, autoscaling)",
  },
  "local-path-provisioner": {
    name: "local-path-provisioner",
    ref: `docker.io/rancher/local-path-provisioner:${VERSIONS["local-path-provisioner"]}`,
    own: false,
    recipe: { kind: "go", binaries: ["local-path-provisioner"] },
    usedBy: "the default StorageClass (node-local volumes)",
  },
  prometheus: {
    name: "prometheus",
    ref: `quay.io/prometheus/prometheus:${VERSIONS.prometheus}`,
    own: false,
    recipe: { kind: "go", binaries: ["prometheus", "promtool"] },
    usedBy: "prometheus",
  },
  pushgateway: {
    name: "pushgateway",
    ref: `quay.io/prometheus/pushgateway:${VERSIONS.pushgateway}`,
    own: false,
    recipe: { kind: "go", binaries: ["pushgateway"] },
    usedBy: "pushgateway",
  },
  "node-exporter": {
    name: "node-exporter",
    ref: `quay.io/prometheus/node-exporter:${VERSIONS["node-exporter"]}`,
    own: false,
    recipe: { kind: "go", binaries: ["node_exporter"] },
    usedBy: "node-exporter",
  },
  grafana: {
    name: "grafana",
    ref: "docker.io/grafana/grafana:12.1.1",
    own: false,
    usedBy: "grafana",
  },
  mongo: {
    name: "mongo",
    ref: "docker.io/library/mongo:8.0.12",
    own: false,
    usedBy: "mongo-config, mongo-shard, mongos, mongo-init",
  },
  "countly-api": {
    name: "countly-api",
    ref: "docker.io/countly/api:25.03",
    own: false,
    usedBy: "countly-api",
  },
  "countly-frontend": {
    name: "countly-frontend",
    ref: "docker.io/countly/frontend:25.03",
    own: false,
    usedBy: "countly-dashboard",
  },
  boinc: {
    name: "boinc",
    ref: own("boinc", "0.1.0"),
    own: true,
    recipe: { kind: "debian", packages: ["boinc-client", "ca-certificates"] },
    usedBy: "boinc",
  },
  wrk: {
    name: "wrk",
    ref: own("wrk", "0.1.0"),
    own: true,
    recipe: { kind: "debian", packages: ["wrk", "curl", "ca-certificates", "netbase"] },
    usedBy: "bench (load generators)",
  },
  "bench-target": {
    name: "bench-target",
    ref: own("bench-target", "0.1.0"),
    own: true,
    recipe: { kind: "debian", packages: ["nginx-light", "netbase"] },
    usedBy: "bench-target",
  },
  tools: {
    name: "tools",
    ref: own("tools", "0.1.0"),
    own: true,
    recipe: {
      kind: "debian",
      packages: ["curl", "dnsutils", "iproute2", "procps", "ca-certificates", "netbase"],
    },
    usedBy: "tests and node helpers (volume directories)",
  },
} as const satisfies Record<string, CatalogImage>;

/** Every image, in a stable order. */
export const IMAGES: readonly CatalogImage[] = Object.values(CATALOG);

/** Splits `registry/repository:tag` into the values' shape. */
export function splitRef(ref: string): { registry: string; repository: string; tag: string } {
  const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(ref);
  if (!m) throw new Error(`not a full image reference: ${ref}`);
  return { registry: m[1]!, repository: m[2]!, tag: m[3]! };
}
