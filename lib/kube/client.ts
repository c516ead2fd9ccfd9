/**
 * The kube client factory: one way for every task to reach a cluster.
 *
 * The kubeconfig is read as kubectl reads it (lib/kube/kubeconfig.ts: `--kubeconfig` →
 * `KUBECONFIG`, merged → `~/.kube/config`; `--context` or the current context) and handed to
 * client-node, whose authentication (certificates, tokens, token files, basic auth, exec plugins)
 * every request uses — those of {@link KubeRest} and those of the typed clients alike. Missing or
 * unreadable files, unknown contexts and API servers that do not answer become one-line
 * {@link CncfdemoError}s.
 */
import * as k8s from "@kubernetes/client-node";
import process from "node:process";
import { CncfdemoError, errorMessage, UsageError } from "../errors.ts";
import { log } from "../log.ts";
import { withTimeout } from "../wait.ts";
import { asKubeError, CredentialError, KubeApiError, kubeProblem } from "./errors.ts";
import { readMergedKubeconfig } from "./kubeconfig.ts";
import { KubeRest } from "./rest.ts";

export { defaultKubeconfigPath } from "./kubeconfig.ts";

// client-node's HTTP stack loads node's deprecated `punycode` on first request; the warning it
// prints says nothing to our users.
process.noDeprecation = true;

/** Where to find the cluster: the common `--kubeconfig` and `--context` flags. */
export interface KubeTarget {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

/** How long a token read from a token file is used before the file is read again (client-go's minute). */
const TOKEN_FILE_TTL_MS = 60_000;

/**
 * kubectl's `tokenFile` (client-node knows only `token-file`, reads it once, relative to the
 * current directory and untrimmed): the file's trimmed content as bearer token, re-read every
 * minute as client-go does, the path already resolved against the kubeconfig's folder.
 */
class TokenFileAuth {
  #cache = new Map<string, { token: string; at: number }>();
  constructor(readonly files: ReadonlyMap<string, string>) {}
  isAuthProvider(user: k8s.User): boolean {
    return this.files.has(user.name) && !user.token;
  }
  applyAuthentication(user: k8s.User, opts: { headers?: Record<string, unknown> }): Promise<void> {
    const path = this.files.get(user.name)!;
    let hit = this.#cache.get(path);
    if (!hit || Date.now() - hit.at > TOKEN_FILE_TTL_MS) {
      let token: string;
      try {
        token = Deno.readTextFileSync(path).trim();
      } catch (err) {
        throw new CredentialError(
          `Cannot read the token file ${path} of user "${user.name}": ${errorMessage(err)}`,
        );
      }
      if (!token) {
        throw new CredentialError(`The token file ${path} of user "${user.name}" is empty`);
      }
      hit = { token, at: Date.now() };
      this.#cache.set(path, hit);
    }
    (opts.headers ??= {}).Authorization = `Bearer ${hit.token}`;
    return Promise.resolve();
  }
}

/** Loads and validates the kubeconfig for a target, with the context selected. */
export function loadKubeConfig(target: KubeTarget = {}): k8s.KubeConfig {
  const { doc, where } = readMergedKubeconfig(target.kubeconfig);
  const tokenFiles = new Map<string, string>();
  for (const u of doc.users ?? []) {
    const user = u.user as Record<string, unknown> | undefined;
    if (!user) continue;
    // kubectl's key is tokenFile; client-node reads token-file itself (once, unresolved): ours.
    const file = user.tokenFile ?? user["token-file"];
    if (typeof file === "string" && file) tokenFiles.set(u.name, file);
    delete user.tokenFile;
    delete user["token-file"];
  }
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromString(JSON.stringify(doc));
  } catch (err) {
    throw new UsageError(`Cannot parse kubeconfig ${where}: ${errorMessage(err)}`);
  }
  kc.addAuthenticator(new TokenFileAuth(tokenFiles));
  const names = kc.getContexts().map((c) => c.name);
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

/**
 * A typed client whose failures are ours ({@link asKubeError}): a refused request is a
 * KubeApiError with the server's message, an unreachable server one line, never client-node's
 * multi-line ApiException printed as unexpected.
 */
function typedClient<T extends object>(api: T, server: string): T {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        try {
          const r = v.apply(target, args);
          return r instanceof Promise
            ? r.catch((err: unknown) => Promise.reject(asKubeError(err, server)))
            : r;
        } catch (err) {
          throw asKubeError(err, server);
        }
      };
    },
  });
}

/** A connected cluster: the kubeconfig, the one REST transport and the typed API clients. */
export class Kube {
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly batch: k8s.BatchV1Api;
  /** The REST client: apply with strict validation, discovery, lists, watches, proxies. */
  readonly rest: KubeRest;
  constructor(readonly kc: k8s.KubeConfig) {
    this.rest = new KubeRest(kc);
    this.core = typedClient(kc.makeApiClient(k8s.CoreV1Api), this.rest.server);
    this.apps = typedClient(kc.makeApiClient(k8s.AppsV1Api), this.rest.server);
    this.batch = typedClient(kc.makeApiClient(k8s.BatchV1Api), this.rest.server);
  }
  get context(): string {
    return this.kc.getCurrentContext();
  }
  get server(): string {
    return this.rest.server;
  }
  /** Releases the HTTP clients. */
  close(): void {
    this.rest.close();
  }
}

/**
 * Loads the kubeconfig and checks the API server answers (`GET /version`, through the same
 * transport and credentials as every later request) within `timeoutMs`. Throws one line naming
 * the server and context when it does not.
 */
export async function connectKube(
  target: KubeTarget = {},
  options: { timeoutMs?: number } = {},
): Promise<Kube> {
  const kube = new Kube(loadKubeConfig(target));
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    const info = await withTimeout(
      kube.rest.request<{ gitVersion?: string }>("GET", "/version"),
      timeoutMs,
      "timed out",
    );
    log.debug(
      `connected to ${kube.server} (context ${kube.context}), Kubernetes ${info?.gitVersion}`,
    );
  } catch (err) {
    kube.close();
    // The transport's own errors name the server already: classify what they wrap.
    const own = err instanceof CredentialError || err instanceof KubeApiError ||
      !(err instanceof Error);
    const p = kubeProblem(own ? err : err.cause ?? err);
    const where = `the Kubernetes API server at ${kube.server} (context ${kube.context})`;
    if (p.kind === "unauthorized" || p.kind === "forbidden" || p.kind === "credentials") {
      throw new CncfdemoError(`Cannot use ${where}: ${p.text}`, { cause: err });
    }
    throw new CncfdemoError(
      `Cannot reach ${where}: ${p.text}; is the cluster running? ("deno task bootstrap:sim" creates one)`,
      { cause: err },
    );
  }
  return kube;
}
