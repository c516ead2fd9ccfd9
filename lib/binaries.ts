/**
 * The pinned binaries: the control plane (Kubernetes kube-apiserver, kube-controller-manager,
 * kube-scheduler, kubectl, kubeadm; etcd), kwok for simulated nodes, a real node (kubelet,
 * kube-proxy, containerd, runc, CNI plugins) and what the images of a real node carry (CoreDNS,
 * metrics-server, Prometheus, Pushgateway, node-exporter).
 *
 * Each binary is found in this order: an explicit path (`--bin-dir DIR`, or the environment
 * variable `CNCFDEMO_<NAME>_BINARY`, e.g. `CNCFDEMO_KUBE_APISERVER_BINARY`) → the cache
 * (`<cache>/bin/<component>-<version>-<os>-<arch>/`) → a build with the Go toolchain from the Go
 * module proxy, through a small wrapper module (Kubernetes needs `replace` lines for its staging
 * modules, generated from its own go.mod). Builds land in a temporary directory that is renamed
 * into place, under a lock, so an interrupted build never leaves a half binary in the cache.
 */
import { CncfdemoError } from "./errors.ts";
import { log } from "./log.ts";
import { cacheDir, exists } from "./paths.ts";
import { hasProgram, run } from "./process.ts";

/**
 * The pinned versions. kwok v0.8.0 is tested with Kubernetes 1.34–1.36; containerd 2.2 with
 * runc 1.3. Prometheus, Pushgateway and node-exporter are the versions the stack deploys.
 */
export const VERSIONS = {
  kubernetes: "v1.36.3",
  etcd: "v3.6.16",
  kwok: "v0.8.0",
  prometheus: "v3.5.0",
  pushgateway: "v1.11.1",
  "node-exporter": "v1.9.1",
  containerd: "v2.2.9",
  runc: "v1.3.6",
  "cni-plugins": "v1.7.1",
  coredns: "v1.14.7",
  "metrics-server": "v0.9.0",
  "local-path-provisioner": "v0.0.30",
  /** cncfdemo's own load generator (lib/series/loadgen/main.go): bump when that file changes. */
  loadgen: "v0.1.0",
} as const;

export type ComponentId = keyof typeof VERSIONS;

export const BINARIES = {
  "kube-apiserver": "kubernetes",
  "kube-controller-manager": "kubernetes",
  "kube-scheduler": "kubernetes",
  "kubectl": "kubernetes",
  "kubeadm": "kubernetes",
  "etcd": "etcd",
  "kwok": "kwok",
  "kwokctl": "kwok",
  "promtool": "prometheus",
  "kubelet": "kubernetes",
  "kube-proxy": "kubernetes",
  "containerd": "containerd",
  "containerd-shim-runc-v2": "containerd",
  "ctr": "containerd",
  "runc": "runc",
  "bridge": "cni-plugins",
  "host-local": "cni-plugins",
  "loopback": "cni-plugins",
  "coredns": "coredns",
  "metrics-server": "metrics-server",
  "prometheus": "prometheus",
  "pushgateway": "pushgateway",
  "node_exporter": "node-exporter",
  "local-path-provisioner": "local-path-provisioner",
  "cncfdemo-loadgen": "loadgen",
} as const satisfies Record<string, ComponentId>;

export type BinaryName = keyof typeof BINARIES;

/**
 * Every binary the simulated cluster needs: the control plane, kwok, and metrics-server (kwokctl
 * runs it against kwok's simulated resource metrics, so autoscalers get metrics).
 */
export const SIM_BINARIES: readonly BinaryName[] = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubectl",
  "etcd",
  "kwok",
  "kwokctl",
  "metrics-server",
];

/** What a real node runs on the host (the rest runs in pods, from images). */
export const NODE_BINARIES: readonly BinaryName[] = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubectl",
  "etcd",
  "kubelet",
  "kube-proxy",
  "containerd",
  "containerd-shim-runc-v2",
  "ctr",
  "runc",
  "bridge",
  "host-local",
  "loopback",
];

/** What the node's images carry, built from Go modules. */
export const IMAGE_BINARIES: readonly BinaryName[] = [
  "coredns",
  "metrics-server",
  "prometheus",
  "pushgateway",
  "node_exporter",
  "local-path-provisioner",
];

interface GoBuild {
  /**
   * The module that holds the main packages, and its version; the wrapper module itself (no
   * version) for a program whose sources are all in `sources`.
   */
  module: string;
  version: string;
  /** Output binary name → main package. */
  packages: Record<string, string>;
  ldflags: string[];
  /** Extra lines for the wrapper go.mod (replace lines). */
  goModExtra?: (moduleGoMod: string) => string[];
  /** Build environment beyond CGO_ENABLED=0 (runc needs cgo). */
  env?: Record<string, string>;
  tags?: string[];
  /** Source files of the wrapper module itself (path → text), e.g. a main with fewer plugins. */
  sources?: Record<string, string>;
  /** What to install when the build needs more than Go (C headers for cgo). */
  needs?: string;
}

/** The wrapper module's path for a component (packages inside it are its own sources). */
const wrapperModule = (id: ComponentId) => `cncfdemo.local/build/${id}`;

/**
 * CoreDNS with only the plugins a cluster's DNS needs (no `forward`: a real node here has no
 * upstream resolver), in plugin.cfg's order, which is the order CoreDNS runs them in.
 */
const COREDNS_PLUGINS = [
  "ready",
  "health",
  "prometheus",
  "errors",
  "log",
  "loadbalance",
  "cache",
  "kubernetes",
];

const COREDNS_MAIN =
  `// CoreDNS with a reduced plugin list (generated by cncfdemo's lib/binaries.ts).
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"
${
    COREDNS_PLUGINS.map((p) =>
      `	_ "github.com/coredns/coredns/plugin/${p === "prometheus" ? "metrics" : p}"`
    ).join("\n")
  }
)

func init() {
	dnsserver.Directives = []string{${COREDNS_PLUGINS.map((p) => `"${p}"`).join(", ")}}
}

func main() { coremain.Run() }
`;

/** Packages of `module` for the given binary names of a component. */
function packagesOf(id: ComponentId, pkg: (name: string) => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, comp] of Object.entries(BINARIES)) {
    if (comp === id) out[name] = pkg(name);
  }
  return out;
}

function goBuild(id: ComponentId): GoBuild {
  switch (id) {
    case "kubernetes": {
      const v = VERSIONS.kubernetes;
      const [major, minor] = v.slice(1).split(".");
      const stamp = ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((
        p,
      ) => [`-X ${p}.gitVersion=${v}`, `-X ${p}.gitMajor=${major}`, `-X ${p}.gitMinor=${minor}`]);
      return {
        module: "k8s.io/kubernetes",
        version: v,
        packages: packagesOf(id, (name) => `k8s.io/kubernetes/cmd/${name}`),
        ldflags: ["-s", "-w", ...stamp],
        goModExtra: (gomod) => stagingReplaces(gomod, v),
      };
    }
    case "etcd":
      return {
        module: "go.etcd.io/etcd/server/v3",
        version: VERSIONS.etcd,
        packages: { etcd: "go.etcd.io/etcd/server/v3" },
        ldflags: ["-s", "-w"],
      };
    case "prometheus": {
      // Prometheus v3.Y.Z is published as the Go module version v0.3YY.Z.
      const [major, minor, patch] = VERSIONS.prometheus.slice(1).split(".").map(Number);
      const moduleVersion = `v0.${major! * 100 + minor!}.${patch}`;
      return {
        module: "github.com/prometheus/prometheus",
        version: moduleVersion,
        packages: packagesOf(id, (name) => `github.com/prometheus/prometheus/cmd/${name}`),
        ldflags: [
          "-s",
          "-w",
          `-X github.com/prometheus/common/version.Version=${VERSIONS.prometheus.slice(1)}`,
        ],
        goModExtra: moduleReplaces,
      };
    }
    case "kwok": {
      const kube = VERSIONS.kubernetes.slice(1);
      return {
        module: "sigs.k8s.io/kwok",
        version: VERSIONS.kwok,
        packages: { kwok: "sigs.k8s.io/kwok/cmd/kwok", kwokctl: "sigs.k8s.io/kwok/cmd/kwokctl" },
        ldflags: [
          "-s",
          "-w",
          `-X sigs.k8s.io/kwok/pkg/consts.Version=${VERSIONS.kwok.slice(1)}`,
          `-X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kube}`,
        ],
      };
    }
    case "pushgateway":
    case "node-exporter": {
      const module = `github.com/prometheus/${
        id === "pushgateway" ? "pushgateway" : "node_exporter"
      }`;
      return {
        module,
        version: VERSIONS[id],
        packages: packagesOf(id, () => module),
        ldflags: [
          "-s",
          "-w",
          `-X github.com/prometheus/common/version.Version=${VERSIONS[id].slice(1)}`,
        ],
        goModExtra: moduleReplaces,
      };
    }
    case "containerd": {
      const module = "github.com/containerd/containerd/v2";
      return {
        module,
        version: VERSIONS.containerd,
        packages: packagesOf(id, (name) => `${module}/cmd/${name}`),
        ldflags: ["-s", "-w", `-X ${module}/version.Version=${VERSIONS.containerd}`],
        tags: ["no_btrfs", "no_zfs", "no_devmapper", "no_aufs"],
        goModExtra: moduleReplaces,
      };
    }
    case "runc":
      // runc's nsenter is C: cgo, and libseccomp for seccomp profiles (RuntimeDefault).
      return {
        module: "github.com/opencontainers/runc",
        version: VERSIONS.runc,
        packages: { runc: "github.com/opencontainers/runc" },
        ldflags: ["-s", "-w", `-X main.version=${VERSIONS.runc.slice(1)}`],
        env: { CGO_ENABLED: "1" },
        tags: ["seccomp", "urfave_cli_no_docs"],
        needs:
          "a C compiler, pkg-config and libseccomp's headers (Debian: apt-get install gcc pkg-config libseccomp-dev)",
      };
    case "cni-plugins": {
      const module = "github.com/containernetworking/plugins";
      const dir = (name: string) => (name === "host-local" ? "ipam" : "main");
      return {
        module,
        version: VERSIONS["cni-plugins"],
        packages: packagesOf(id, (name) => `${module}/plugins/${dir(name)}/${name}`),
        ldflags: [
          "-s",
          "-w",
          `-X ${module}/pkg/utils/buildversion.BuildVersion=${VERSIONS["cni-plugins"]}`,
        ],
      };
    }
    case "coredns":
      return {
        module: "github.com/coredns/coredns",
        version: VERSIONS.coredns,
        packages: { coredns: `${wrapperModule(id)}/cmd/coredns` },
        ldflags: ["-s", "-w"],
        sources: { "cmd/coredns/main.go": COREDNS_MAIN },
        goModExtra: moduleReplaces,
      };
    case "local-path-provisioner": {
      const module = "github.com/rancher/local-path-provisioner";
      return {
        module,
        version: VERSIONS[id],
        packages: { [id]: module },
        ldflags: ["-s", "-w", `-X main.VERSION=${VERSIONS[id]}`],
        goModExtra: moduleReplaces,
      };
    }
    case "loadgen":
      return {
        module: wrapperModule(id),
        version: VERSIONS.loadgen,
        packages: { "cncfdemo-loadgen": `${wrapperModule(id)}/cmd/cncfdemo-loadgen` },
        ldflags: ["-s", "-w"],
        sources: {
          "cmd/cncfdemo-loadgen/main.go": Deno.readTextFileSync(
            new URL("./series/loadgen/main.go", import.meta.url),
          ),
        },
      };
    case "metrics-server": {
      const v = VERSIONS["metrics-server"];
      return {
        module: "sigs.k8s.io/metrics-server",
        version: v,
        packages: { "metrics-server": "sigs.k8s.io/metrics-server/cmd/metrics-server" },
        ldflags: ["-s", "-w", `-X k8s.io/client-go/pkg/version.gitVersion=${v}`],
        goModExtra: moduleReplaces,
      };
    }
  }
}

/** A module's own `replace` lines that point at published versions (not local paths). */
export function moduleReplaces(goMod: string): string[] {
  const out: string[] = [];
  const re = /^\s*(?:replace\s+)?(\S+)(?:\s+(v\S+))?\s+=>\s+(\S+)\s+(v\S+)\s*$/gm;
  for (const m of goMod.matchAll(re)) {
    out.push(`replace ${m[1]}${m[2] ? ` ${m[2]}` : ""} => ${m[3]} ${m[4]}`);
  }
  return out;
}

/**
 * The `replace` lines that pin each k8s.io staging module (required as v0.0.0 by k8s.io/kubernetes)
 * to its published version: Kubernetes v1.Y.Z ↔ staging v0.Y.Z.
 */
export function stagingReplaces(kubernetesGoMod: string, version: string): string[] {
  const staging = `v0.${version.replace(/^v1\./, "")}`;
  const names = new Set<string>();
  for (const line of kubernetesGoMod.split("\n")) {
    const m = /^\s*(?:require\s+)?(k8s\.io\/[A-Za-z0-9._\/-]+)\s+v0\.0\.0(?:\s|$)/.exec(line);
    if (m) names.add(m[1]!);
  }
  return [...names].sort().map((n) => `replace ${n} => ${n} ${staging}`);
}

function platform(): string {
  const os = Deno.build.os;
  const arch = Deno.build.arch === "x86_64"
    ? "amd64"
    : Deno.build.arch === "aarch64"
    ? "arm64"
    : Deno.build.arch;
  return `${os}-${arch}`;
}

/** The cache directory holding a component's binaries. */
export function componentCacheDir(id: ComponentId): string {
  return `${cacheDir()}/bin/${id}-${VERSIONS[id]}-${platform()}`;
}

function envName(name: BinaryName): string {
  return `CNCFDEMO_${name.toUpperCase().replaceAll("-", "_")}_BINARY`;
}

/** Where a resolved binary came from. */
export type BinarySource = "explicit" | "cache" | "built";

export interface ResolveOptions {
  /** A directory holding binaries by name; takes precedence over the cache. */
  binDir?: string | undefined;
  /** Progress callback for long builds. */
  progress?: (message: string) => void;
  /** Fail instead of building what is missing. */
  noBuild?: boolean;
}

export interface Resolved {
  paths: Record<BinaryName, string>;
  sources: Record<BinaryName, BinarySource>;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const st = await Deno.stat(path);
    return st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Resolves (building when needed) the given binaries. */
export async function resolveBinaries(
  names: readonly BinaryName[],
  options: ResolveOptions = {},
): Promise<Resolved> {
  const paths = {} as Record<BinaryName, string>;
  const sources = {} as Record<BinaryName, BinarySource>;
  const toBuild = new Map<ComponentId, BinaryName[]>();
  for (const name of names) {
    const explicit = Deno.env.get(envName(name)) ??
      (options.binDir ? `${options.binDir}/${name}` : undefined);
    if (explicit) {
      if (!(await isExecutableFile(explicit))) {
        const from = Deno.env.get(envName(name)) ? envName(name) : "--bin-dir";
        throw new CncfdemoError(
          `Cannot use ${name} from ${from}: ${explicit} is not an executable file`,
        );
      }
      paths[name] = explicit;
      sources[name] = "explicit";
      continue;
    }
    const cached = `${componentCacheDir(BINARIES[name])}/${name}`;
    if (await isExecutableFile(cached)) {
      paths[name] = cached;
      sources[name] = "cache";
    } else {
      toBuild.set(BINARIES[name], [...(toBuild.get(BINARIES[name]) ?? []), name]);
    }
  }
  if (toBuild.size && options.noBuild) {
    throw new CncfdemoError(
      `Not in the cache: ${[...toBuild.values()].flat().join(", ")}; run "deno task binaries"`,
    );
  }
  for (const [id, missing] of toBuild) {
    await buildComponent(id, missing, options.progress ?? (() => {}));
    for (const name of missing) {
      paths[name] = `${componentCacheDir(id)}/${name}`;
      sources[name] = "built";
    }
  }
  return { paths, sources };
}

/**
 * Builds the named binaries of one component into the cache, unless another process did it
 * meanwhile. A component's directory appears whole (a renamed temporary directory); a binary added
 * to a component later is built alone and renamed into the existing directory.
 */
async function buildComponent(
  id: ComponentId,
  names: readonly BinaryName[],
  progress: (message: string) => void,
): Promise<void> {
  const final = componentCacheDir(id);
  const root = `${cacheDir()}/bin`;
  await Deno.mkdir(root, { recursive: true });
  const lock = await Deno.open(`${root}/.${id}-${VERSIONS[id]}.lock`, {
    create: true,
    write: true,
  });
  try {
    // Say so only when another process really holds the lock (it is building the same thing).
    const waiting = setTimeout(() => progress(`waiting for another process building ${id}`), 300);
    await lock.lock(true).finally(() => clearTimeout(waiting));
    const missing: BinaryName[] = [];
    for (const name of names) {
      if (!(await isExecutableFile(`${final}/${name}`))) missing.push(name);
    }
    if (missing.length === 0) return; // another process finished the build while we waited
    if (!(await hasProgram("go"))) {
      throw new CncfdemoError(
        `Cannot get ${id} ${
          VERSIONS[id]
        }: it is not in the cache (${root}) and no Go toolchain is on PATH; install Go 1.26 or newer (https://go.dev/dl/), or set CNCFDEMO_<NAME>_BINARY / --bin-dir to existing binaries`,
      );
    }
    const spec = goBuild(id);
    const whole = !(await exists(final));
    // A new directory gets every binary of the component; an existing one only what it lacks.
    const build = whole ? Object.keys(spec.packages) : missing;
    const packages = Object.fromEntries(build.map((n) => [n, spec.packages[n]!]));
    const tmp = await Deno.makeTempDir({ dir: root, prefix: `.tmp-${id}-` });
    try {
      await goBuildInto(
        { ...spec, packages },
        `${cacheDir()}/build/${id}-${VERSIONS[id]}`,
        tmp,
        id,
        progress,
      );
      if (whole) {
        await Deno.rename(tmp, final);
      } else {
        for (const name of build) await Deno.rename(`${tmp}/${name}`, `${final}/${name}`);
        await Deno.remove(tmp, { recursive: true });
      }
    } catch (err) {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      throw err;
    }
  } finally {
    await lock.unlock().catch(() => {});
    lock.close();
  }
}

async function goBuildInto(
  spec: GoBuild,
  work: string,
  out: string,
  id: ComponentId,
  progress: (message: string) => void,
): Promise<void> {
  await Deno.mkdir(work, { recursive: true });
  const env = { CGO_ENABLED: "0", GOWORK: "off", GOFLAGS: "-mod=mod", ...spec.env };
  const label = `${id} ${VERSIONS[id]}`;
  const own = spec.module === wrapperModule(id);
  let moduleGoMod = "";
  if (!own) {
    progress(`${label}: reading ${spec.module}'s go.mod`);
    const dl = await run("go", ["mod", "download", "-json", `${spec.module}@${spec.version}`], {
      env,
      cwd: work,
    });
    const info = JSON.parse(dl.stdout) as { GoMod?: string; Error?: string };
    if (!info.GoMod) {
      throw new CncfdemoError(
        `Cannot download ${spec.module}@${spec.version}: ${info.Error ?? "no go.mod"}`,
      );
    }
    moduleGoMod = await Deno.readTextFile(info.GoMod);
  }
  const goLine = /^go\s+(\S+)/m.exec(moduleGoMod)?.[1] ?? "1.26.0";
  const goMod = [
    `module ${wrapperModule(id)}`,
    "",
    `go ${goLine}`,
    "",
    ...(own ? [] : [`require ${spec.module} ${spec.version}`]),
    "",
    ...(spec.goModExtra?.(moduleGoMod) ?? []),
    "",
  ].join("\n");
  await Deno.writeTextFile(`${work}/go.mod`, goMod);
  for (const [path, text] of Object.entries(spec.sources ?? {})) {
    await Deno.mkdir(`${work}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${work}/${path}`, text);
  }
  // The wrapper's own packages are found by go mod tidy; the module's are imported here.
  const external = Object.values(spec.packages).filter((p) => !p.startsWith(wrapperModule(id)));
  const imports = external.map((p) => `\t_ "${p}"`).join("\n");
  await Deno.writeTextFile(
    `${work}/tools.go`,
    `//go:build tools\n\npackage tools\n\nimport (\n${imports}\n)\n`,
  );
  progress(`${label}: resolving modules (go mod tidy)`);
  await run("go", ["mod", "tidy"], { env, cwd: work });
  const pkgs = Object.values(spec.packages);
  const tags = spec.tags?.length ? ["-tags", spec.tags.join(",")] : [];
  const deps = await run("go", ["list", ...tags, "-deps", ...pkgs], { env, cwd: work });
  const total = deps.stdout.split("\n").filter(Boolean).length;
  let done = 0;
  progress(`${label}: compiling (0/${total} packages)`);
  const started = performance.now();
  const onLine = (line: string, stream: string) => {
    if (stream !== "stderr" || !line || line.includes(" ")) return;
    done++;
    progress(`${label}: compiling (${Math.min(done, total)}/${total} packages)`);
  };
  const ldflags = spec.ldflags.join(" ");
  const names = Object.keys(spec.packages);
  // One binary: -o names the file; several: -o names the directory.
  const output = names.length === 1 ? `${out}/${names[0]}` : `${out}/`;
  try {
    await run(
      "go",
      ["build", "-v", "-trimpath", ...tags, "-ldflags", ldflags, "-o", output, ...pkgs],
      { env, cwd: work, onLine },
    );
  } catch (err) {
    if (spec.needs && err instanceof CncfdemoError) {
      throw new CncfdemoError(`${err.message}; building ${label} needs ${spec.needs}`);
    }
    throw err;
  }
  for (const name of names) {
    if (!(await isExecutableFile(`${out}/${name}`))) {
      throw new CncfdemoError(`Building ${label} produced no ${name} binary`);
    }
  }
  log.debug(`built ${label} in ${((performance.now() - started) / 1000).toFixed(1)}s`);
}

/** The version a binary reports (`--version`), or undefined when it does not say. */
export async function binaryVersion(path: string): Promise<string | undefined> {
  const name = path.split("/").pop();
  const args = name === "kubectl"
    ? ["version", "--client"]
    : name === "kubeadm"
    ? ["version", "-o", "short"]
    : name === "containerd-shim-runc-v2"
    ? ["-v"]
    : ["--version"];
  const r = await run(path, args, { allowFailure: true });
  // Some print their own path first: it holds a version too (the cache directory's).
  return /v?\d+\.\d+\.\d+[^\s,]*/.exec((r.stdout + r.stderr).replaceAll(path, ""))?.[0];
}
