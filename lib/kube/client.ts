/**
 * The kube client factory: one way for every task to reach a cluster.
 *
 * Resolution follows kubectl: `--kubeconfig` → `KUBECONFIG` (files joined by `:`) →
 * `~/.kube/config`; `--context` or the current context. Missing or unreadable files, unknown
 * contexts and API servers that do not answer become one-line {@link CncfdemoError}s.
 */
import * as k8s from "@kubernetes/client-node";
import process from "node:process";
import { CncfdemoError, errorMessage, UsageError } from "../errors.ts";
import { log } from "../log.ts";
import { withTimeout } from "../wait.ts";
import { KubeRest } from "./rest.ts";

// client-node's HTTP stack loads node's deprecated `punycode` on first request; the warning it
// prints says nothing to our users.
process.noDeprecation = true;

/** Where to find the cluster: the common `--kubeconfig` and `--context` flags. */
export interface KubeTarget {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

/** The path kubeconfig entries are written to: the first file of KUBECONFIG, or ~/.kube/config. */
export function defaultKubeconfigPath(): string {
  const env = Deno.env.get("KUBECONFIG");
  const first = env?.split(":").find((p) => p.trim() !== "");
  if (first) return first;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (!home) throw new CncfdemoError("Cannot find the kubeconfig: set HOME or KUBECONFIG");
  return `${home}/.kube/config`;
}

function kubeconfigFiles(target: KubeTarget): string[] {
  if (target.kubeconfig) return [target.kubeconfig];
  const env = Deno.env.get("KUBECONFIG");
  const files = env?.split(":").filter((p) => p.trim() !== "") ?? [];
  return files.length ? files : [defaultKubeconfigPath()];
}

function readProblem(path: string, err: unknown): CncfdemoError {
  const hint = 'create a cluster with "deno task bootstrap:sim" or pass --kubeconfig';
  if (err instanceof Deno.errors.NotFound) {
    return new UsageError(`Cannot read kubeconfig ${path}: no such file; ${hint}`);
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new UsageError(`Cannot read kubeconfig ${path}: permission denied`);
  }
  if (err instanceof Deno.errors.IsADirectory) {
    return new UsageError(`Cannot read kubeconfig ${path}: it is a directory, not a file`);
  }
  return new UsageError(`Cannot read kubeconfig ${path}: ${errorMessage(err)}`);
}

/** Loads and validates the kubeconfig for a target, with the context selected. */
export function loadKubeConfig(target: KubeTarget = {}): k8s.KubeConfig {
  const files = kubeconfigFiles(target);
  const kc = new k8s.KubeConfig();
  let loaded = 0;
  for (const path of files) {
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (err) {
      // kubectl skips missing files of a KUBECONFIG list; an explicit file must exist.
      if (!target.kubeconfig && files.length > 1 && err instanceof Deno.errors.NotFound) continue;
      throw readProblem(path, err);
    }
    const part = new k8s.KubeConfig();
    try {
      part.loadFromString(text);
    } catch (err) {
      throw new UsageError(`Cannot parse kubeconfig ${path}: ${errorMessage(err)}`);
    }
    if (loaded === 0) {
      kc.loadFromString(text);
    } else {
      kc.mergeConfig(part);
    }
    loaded++;
  }
  const names = kc.getContexts().map((c) => c.name);
  const where = files.join(":");
  if (target.context) {
    if (!names.includes(target.context)) {
      throw new UsageError(
        `Context "${target.context}" not found in ${where}: ${
          names.length ? `available contexts are ${names.join(", ")}` : "it has no contexts"
        }`,
      );
    }
    kc.setCurrentContext(target.context);
  } else if (!kc.getCurrentContext() || !names.includes(kc.getCurrentContext())) {
    throw new UsageError(
      `No current context in ${where}: pass --context${
        names.length ? ` (one of ${names.join(", ")})` : ""
      } or create a cluster with "deno task bootstrap:sim"`,
    );
  }
  if (!kc.getCurrentCluster()) {
    throw new UsageError(`Context "${kc.getCurrentContext()}" in ${where} names no cluster`);
  }
  return kc;
}

/** A connected cluster: the kubeconfig plus the API clients the tasks use. */
export class Kube {
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly batch: k8s.BatchV1Api;
  readonly objects: k8s.KubernetesObjectApi;
  #rest: KubeRest | undefined;
  constructor(readonly kc: k8s.KubeConfig) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.batch = kc.makeApiClient(k8s.BatchV1Api);
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  }
  get context(): string {
    return this.kc.getCurrentContext();
  }
  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? "(no server)";
  }
  /** The REST client for apply with strict validation, discovery and generic lists. */
  get rest(): KubeRest {
    return (this.#rest ??= new KubeRest(this.kc));
  }
  /** Releases the HTTP client. */
  close(): void {
    this.#rest?.close();
  }
  /** A watch on this cluster. */
  watch(): k8s.Watch {
    return new k8s.Watch(this.kc);
  }
}

/** Why a request to the API server failed, in a few words. */
export function connectionProblem(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur; i++) {
    const code = (cur as { code?: string }).code;
    const msg = errorMessage(cur);
    parts.push(code ? `${code} ${msg}` : msg);
    cur = (cur as { cause?: unknown }).cause;
  }
  const text = parts.join(" ");
  if (/ECONNREFUSED|Connection refused|os error 111/i.test(text)) return "connection refused";
  if (/ENOTFOUND|EAI_AGAIN|failed to lookup|Name or service not known/i.test(text)) {
    return "host not found";
  }
  if (/timed out|ETIMEDOUT|deadline/i.test(text)) return "no answer (timed out)";
  if (/certificate|tls|ssl/i.test(text)) return `TLS problem: ${errorMessage(err)}`;
  if (/401|Unauthorized/.test(text)) return "unauthorized: the credentials were refused";
  return errorMessage(err);
}

/**
 * Loads the kubeconfig and checks the API server answers (`GET /version`) within `timeoutMs`.
 * Throws one line naming the server and context when it does not.
 */
export async function connectKube(
  target: KubeTarget = {},
  options: { timeoutMs?: number } = {},
): Promise<Kube> {
  const kc = loadKubeConfig(target);
  const kube = new Kube(kc);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const version = kc.makeApiClient(k8s.VersionApi);
  try {
    const info = await withTimeout(version.getCode(), timeoutMs, "timed out");
    log.debug(
      `connected to ${kube.server} (context ${kube.context}), Kubernetes ${info.gitVersion}`,
    );
  } catch (err) {
    throw new CncfdemoError(
      `Cannot reach the Kubernetes API server at ${kube.server} (context ${kube.context}): ${
        connectionProblem(err)
      }; is the cluster running? ("deno task bootstrap:sim" creates one)`,
      { cause: err },
    );
  }
  return kube;
}
