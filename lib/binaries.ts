/**
 * The pinned binaries of the simulated cluster: Kubernetes (kube-apiserver, kube-controller-manager,
 * kube-scheduler, kubectl, kubeadm), etcd and kwok (kwok, kwokctl).
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

/** The pinned versions. kwok v0.8.0 is tested with Kubernetes 1.34–1.36. */
export const VERSIONS = {
  kubernetes: "v1.36.3",
  etcd: "v3.6.16",
  kwok: "v0.8.0",
  /** Prometheus (for promtool, which checks the rendered configuration): the image's version. */
  prometheus: "v3.5.0",
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
} as const satisfies Record<string, ComponentId>;

export type BinaryName = keyof typeof BINARIES;

/** Every binary the simulated cluster needs. */
export const SIM_BINARIES: readonly BinaryName[] = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubectl",
  "etcd",
  "kwok",
  "kwokctl",
];

interface GoBuild {
  /** The module that holds the main packages, and its version. */
  module: string;
  version: string;
  /** Output binary name → main package. */
  packages: Record<string, string>;
  ldflags: string[];
  /** Extra lines for the wrapper go.mod (replace lines). */
  goModExtra?: (moduleGoMod: string) => string[];
}

function goBuild(id: ComponentId): GoBuild {
  switch (id) {
    case "kubernetes": {
      const v = VERSIONS.kubernetes;
      const [major, minor] = v.slice(1).split(".");
      const stamp = ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((
        p,
      ) => [`-X ${p}.gitVersion=${v}`, `-X ${p}.gitMajor=${major}`, `-X ${p}.gitMinor=${minor}`]);
      const pkgs: Record<string, string> = {};
      for (const [name, comp] of Object.entries(BINARIES)) {
        if (comp === "kubernetes") pkgs[name] = `k8s.io/kubernetes/cmd/${name}`;
      }
      return {
        module: "k8s.io/kubernetes",
        version: v,
        packages: pkgs,
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
        packages: { promtool: "github.com/prometheus/prometheus/cmd/promtool" },
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
  const toBuild = new Set<ComponentId>();
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
      toBuild.add(BINARIES[name]);
    }
  }
  if (toBuild.size && options.noBuild) {
    throw new CncfdemoError(
      `Not in the cache: ${[...toBuild].join(", ")}; run "deno task binaries"`,
    );
  }
  for (const id of toBuild) {
    await buildComponent(id, options.progress ?? (() => {}));
    for (const name of names) {
      if (BINARIES[name] === id && !paths[name]) {
        paths[name] = `${componentCacheDir(id)}/${name}`;
        sources[name] = "built";
      }
    }
  }
  return { paths, sources };
}

/** Builds one component into the cache unless another process did it meanwhile. */
async function buildComponent(id: ComponentId, progress: (message: string) => void): Promise<void> {
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
    if (await exists(final)) return; // another process finished the build while we waited
    if (!(await hasProgram("go"))) {
      throw new CncfdemoError(
        `Cannot get ${id} ${
          VERSIONS[id]
        }: it is not in the cache (${root}) and no Go toolchain is on PATH; install Go 1.26 or newer (https://go.dev/dl/), or set CNCFDEMO_<NAME>_BINARY / --bin-dir to existing binaries`,
      );
    }
    const tmp = await Deno.makeTempDir({ dir: root, prefix: `.tmp-${id}-` });
    try {
      await goBuildInto(
        goBuild(id),
        `${cacheDir()}/build/${id}-${VERSIONS[id]}`,
        tmp,
        id,
        progress,
      );
      await Deno.rename(tmp, final);
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
  const env = { CGO_ENABLED: "0", GOWORK: "off", GOFLAGS: "-mod=mod" };
  const label = `${id} ${VERSIONS[id]}`;
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
  const moduleGoMod = await Deno.readTextFile(info.GoMod);
  const goLine = /^go\s+(\S+)/m.exec(moduleGoMod)?.[1] ?? "1.26.0";
  const goMod = [
    `module cncfdemo.local/build/${id}`,
    "",
    `go ${goLine}`,
    "",
    `require ${spec.module} ${spec.version}`,
    "",
    ...(spec.goModExtra?.(moduleGoMod) ?? []),
    "",
  ].join("\n");
  await Deno.writeTextFile(`${work}/go.mod`, goMod);
  const imports = Object.values(spec.packages).map((p) => `\t_ "${p}"`).join("\n");
  await Deno.writeTextFile(
    `${work}/tools.go`,
    `//go:build tools\n\npackage tools\n\nimport (\n${imports}\n)\n`,
  );
  progress(`${label}: resolving modules (go mod tidy)`);
  await run("go", ["mod", "tidy"], { env, cwd: work });
  const pkgs = Object.values(spec.packages);
  const deps = await run("go", ["list", "-deps", ...pkgs], { env, cwd: work });
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
  if (names.length === 1) {
    await run("go", [
      "build",
      "-v",
      "-trimpath",
      "-ldflags",
      ldflags,
      "-o",
      `${out}/${names[0]}`,
      pkgs[0]!,
    ], {
      env,
      cwd: work,
      onLine,
    });
  } else {
    await run("go", ["build", "-v", "-trimpath", "-ldflags", ldflags, "-o", `${out}/`, ...pkgs], {
      env,
      cwd: work,
      onLine,
    });
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
    : ["--version"];
  const r = await run(path, args, { allowFailure: true });
  return /v?\d+\.\d+\.\d+[^\s,]*/.exec(r.stdout + r.stderr)?.[0];
}
