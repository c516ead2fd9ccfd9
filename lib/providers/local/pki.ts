/**
 * The certificates and keys of a single-node cluster, in kubeadm's layout and with kubeadm's names,
 * made (or kept) under one directory by {@link ensureClusterPki}:
 *
 * ```
 * ca.crt ca.key                              kubernetes CA
 *   apiserver                                server: kubernetes[.default[.svc[.cluster.local]]],
 *                                            localhost, <node>; 127.0.0.1, <node IP>, <service IP>
 *   apiserver-kubelet-client                 client  CN kube-apiserver-kubelet-client
 *                                                    O  kubeadm:cluster-admins
 *   admin                                    client  CN kubernetes-admin  O system:masters
 *   controller-manager                       client  CN system:kube-controller-manager
 *   scheduler                                client  CN system:kube-scheduler
 *   kube-proxy                               client  CN system:kube-proxy
 *   kubelet-client                           client  CN system:node:<node>  O system:nodes
 *   kubelet-serving                          server  CN system:node:<node>  O system:nodes,
 *                                                    <node>, localhost; <node IP>, 127.0.0.1
 *   metrics-server                           server  metrics-server.kube-system.svc[.cluster.local]
 *   controller-manager-serving               server  localhost; 127.0.0.1 (its health endpoint)
 *   scheduler-serving                        server  localhost; 127.0.0.1 (its health endpoint)
 * etcd/ca.crt etcd/ca.key                    etcd CA
 *   etcd/server                              server+client  localhost; 127.0.0.1, ::1
 *   apiserver-etcd-client                    client  CN kube-apiserver-etcd-client
 * front-proxy-ca.crt front-proxy-ca.key      aggregation-layer CA
 *   front-proxy-client                       client  CN front-proxy-client
 * sa.key sa.pub                              ServiceAccount token signing key (PKCS#8 / SPKI)
 * ```
 *
 * Each leaf is `<name>.crt` + `<name>.key`. Keys are written 0600, certificates and sa.pub 0644,
 * each atomically. ECDSA P-256 throughout (see lib/pki.ts for why), so ServiceAccount tokens are
 * ES256.
 *
 * Idempotent: a certificate is kept when it and its key parse, belong together, were issued by the
 * CA on disk, carry the wanted subject, usage and SANs, and have more than 30 days left; anything
 * else is reissued alone. A CA that is missing or unusable is made anew, and with it every
 * certificate it signs (the other CAs' trees and sa.key stay: ServiceAccount tokens stay valid).
 *
 * Kubeconfigs are not written here: {@link kubeconfigFor} returns the text (credentials inline)
 * for the caller to write, 0600, where its components read them (the local layout's config
 * directory).
 */
import { stringify } from "yaml";
import { CncfdemoError, UsageError } from "../../errors.ts";
import { writeFileAtomic } from "../../paths.ts";
import {
  canonicalIp,
  type CertAndKey,
  certInfo,
  type CertUsage,
  isIssuedBy,
  issueCert,
  keyMatchesCert,
  makeCa,
  makeKeyPair,
  parseIp,
  publicKeyPem,
} from "../../pki.ts";

export interface ClusterPkiOptions {
  /** The node's name: a DNS-1123 subdomain (in the apiserver and kubelet-serving SANs). */
  nodeName: string;
  /** The node's address (apiserver and kubelet-serving SANs). */
  nodeIp: string;
  /** The `kubernetes` Service's address, the first of the service CIDR (e.g. 10.96.0.1). */
  serviceIp: string;
  /** More apiserver SANs: IP addresses or DNS names. */
  extraSans?: string[];
  /** The time to judge expiry by and issue at (tests). */
  now?: Date;
}

/** A certificate and its key on disk. */
export interface PairPaths {
  cert: string;
  key: string;
}

/** Every file {@link ensureClusterPki} manages, absolute (under `dir`). */
export interface ClusterPkiPaths {
  dir: string;
  ca: PairPaths;
  apiserver: PairPaths;
  apiserverKubeletClient: PairPaths;
  admin: PairPaths;
  controllerManager: PairPaths;
  scheduler: PairPaths;
  kubeProxy: PairPaths;
  kubeletClient: PairPaths;
  kubeletServing: PairPaths;
  metricsServer: PairPaths;
  controllerManagerServing: PairPaths;
  schedulerServing: PairPaths;
  etcdCa: PairPaths;
  etcdServer: PairPaths;
  apiserverEtcdClient: PairPaths;
  frontProxyCa: PairPaths;
  frontProxyClient: PairPaths;
  sa: { key: string; pub: string };
}

/** The names in `created` / `kept`: each a `.crt` + `.key` pair, or `sa` (sa.key + sa.pub). */
export type PkiName =
  | "ca"
  | "apiserver"
  | "apiserver-kubelet-client"
  | "admin"
  | "controller-manager"
  | "scheduler"
  | "kube-proxy"
  | "kubelet-client"
  | "kubelet-serving"
  | "metrics-server"
  | "controller-manager-serving"
  | "scheduler-serving"
  | "etcd/ca"
  | "etcd/server"
  | "apiserver-etcd-client"
  | "front-proxy-ca"
  | "front-proxy-client"
  | "sa";

export interface ClusterPkiResult {
  /** Written by this run (made or remade), in the order above. */
  created: PkiName[];
  /** Already on disk and fit for use. */
  kept: PkiName[];
  paths: ClusterPkiPaths;
}

type CaName = "ca" | "etcd/ca" | "front-proxy-ca";

/** Every name, in layout order, with its ClusterPkiPaths key. */
const NAMES: readonly [PkiName, Exclude<keyof ClusterPkiPaths, "dir" | "sa"> | "sa"][] = [
  ["ca", "ca"],
  ["apiserver", "apiserver"],
  ["apiserver-kubelet-client", "apiserverKubeletClient"],
  ["admin", "admin"],
  ["controller-manager", "controllerManager"],
  ["scheduler", "scheduler"],
  ["kube-proxy", "kubeProxy"],
  ["kubelet-client", "kubeletClient"],
  ["kubelet-serving", "kubeletServing"],
  ["metrics-server", "metricsServer"],
  ["controller-manager-serving", "controllerManagerServing"],
  ["scheduler-serving", "schedulerServing"],
  ["etcd/ca", "etcdCa"],
  ["etcd/server", "etcdServer"],
  ["apiserver-etcd-client", "apiserverEtcdClient"],
  ["front-proxy-ca", "frontProxyCa"],
  ["front-proxy-client", "frontProxyClient"],
  ["sa", "sa"],
];

const CA_COMMON_NAMES: Record<CaName, string> = {
  "ca": "kubernetes",
  "etcd/ca": "etcd-ca",
  "front-proxy-ca": "front-proxy-ca",
};

const KEEP_MIN_MS = 30 * 86_400_000;
const KEY_MODE = 0o600;
const CERT_MODE = 0o644;

interface LeafSpec {
  name: PkiName;
  ca: CaName;
  commonName: string;
  organizations: string[];
  usage: CertUsage;
  dnsNames: string[];
  ips: string[];
}

/** The paths of every file under `dir` (nothing is read or written). */
export function clusterPkiPaths(dir: string): ClusterPkiPaths {
  const d = dir.replace(/\/+$/, "") || "/";
  const pair = (name: string): PairPaths => ({
    cert: `${d}/${name}.crt`,
    key: `${d}/${name}.key`,
  });
  const out: Record<string, unknown> = { dir: d, sa: { key: `${d}/sa.key`, pub: `${d}/sa.pub` } };
  for (const [name, key] of NAMES) if (name !== "sa") out[key] = pair(name);
  return out as unknown as ClusterPkiPaths;
}

function pairOf(paths: ClusterPkiPaths, name: Exclude<PkiName, "sa">): PairPaths {
  const key = NAMES.find(([n]) => n === name)![1] as Exclude<keyof ClusterPkiPaths, "dir" | "sa">;
  return paths[key];
}

const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function uniqueDns(names: string[]): string[] {
  return [...new Set(names.map((n) => n.toLowerCase()))];
}

function uniqueIps(ips: string[]): string[] {
  return [...new Set(ips.map(canonicalIp))];
}

function leafSpecs(o: ClusterPkiOptions): LeafSpec[] {
  const node = `system:node:${o.nodeName}`;
  const extra = o.extraSans ?? [];
  const extraIps = extra.filter((s) => parseIp(s.trim()));
  const extraDns = extra.filter((s) => !parseIp(s.trim()));
  const client = (name: PkiName, commonName: string, organizations: string[] = []): LeafSpec => ({
    name,
    ca: "ca",
    commonName,
    organizations,
    usage: "client",
    dnsNames: [],
    ips: [],
  });
  return [
    {
      name: "apiserver",
      ca: "ca",
      commonName: "kube-apiserver",
      organizations: [],
      usage: "server",
      dnsNames: uniqueDns([
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "localhost",
        o.nodeName,
        ...extraDns,
      ]),
      ips: uniqueIps(["127.0.0.1", o.nodeIp, o.serviceIp, ...extraIps]),
    },
    client("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ["kubeadm:cluster-admins"]),
    client("admin", "kubernetes-admin", ["system:masters"]),
    client("controller-manager", "system:kube-controller-manager"),
    client("scheduler", "system:kube-scheduler"),
    client("kube-proxy", "system:kube-proxy"),
    client("kubelet-client", node, ["system:nodes"]),
    {
      name: "kubelet-serving",
      ca: "ca",
      commonName: node,
      organizations: ["system:nodes"],
      usage: "server",
      dnsNames: uniqueDns([o.nodeName, "localhost"]),
      ips: uniqueIps([o.nodeIp, "127.0.0.1"]),
    },
    {
      name: "metrics-server",
      ca: "ca",
      commonName: "metrics-server",
      organizations: [],
      usage: "server",
      dnsNames: ["metrics-server.kube-system.svc", "metrics-server.kube-system.svc.cluster.local"],
      ips: [],
    },
    ...(["controller-manager-serving", "scheduler-serving"] as const).map((name) => ({
      name,
      ca: "ca" as const,
      commonName: name,
      organizations: [],
      usage: "server" as const,
      dnsNames: ["localhost"],
      ips: ["127.0.0.1"],
    })),
    {
      name: "etcd/server",
      ca: "etcd/ca",
      commonName: "kube-etcd",
      organizations: [],
      usage: "both",
      dnsNames: ["localhost"],
      ips: uniqueIps(["127.0.0.1", "::1"]),
    },
    { ...client("apiserver-etcd-client", "kube-apiserver-etcd-client"), ca: "etcd/ca" },
    { ...client("front-proxy-client", "front-proxy-client"), ca: "front-proxy-ca" },
  ];
}

function validate(o: ClusterPkiOptions): void {
  if (!DNS_1123.test(o.nodeName) || o.nodeName.length > 253) {
    throw new UsageError(
      `Cannot use "${o.nodeName}" as a node name: expected a DNS-1123 subdomain (lower-case letters, digits, - and .)`,
    );
  }
  for (const [what, ip] of [["node IP", o.nodeIp], ["service IP", o.serviceIp]] as const) {
    if (!parseIp(ip)) {
      throw new UsageError(`Cannot use "${ip}" as the ${what}: expected an IP address`);
    }
  }
  for (const san of o.extraSans ?? []) {
    if (!parseIp(san.trim()) && !DNS_1123.test(san.toLowerCase())) {
      throw new UsageError(
        `Cannot use "${san}" as an apiserver SAN: expected an IP address or a DNS name`,
      );
    }
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new CncfdemoError(
      `Cannot read ${path}: ${err instanceof Error ? err.message : err}; check its permissions`,
    );
  }
}

async function readPair(p: PairPaths): Promise<CertAndKey | undefined> {
  const [cert, key] = await Promise.all([readText(p.cert), readText(p.key)]);
  return cert !== undefined && key !== undefined ? { cert, key } : undefined;
}

async function write(path: string, text: string, mode: number): Promise<void> {
  try {
    await writeFileAtomic(path, text, mode);
  } catch (err) {
    throw new CncfdemoError(
      `Cannot write ${path}: ${
        err instanceof Error ? err.message : err
      }; check the directory's permissions`,
    );
  }
}

/** The key first: an interrupted run leaves a key that does not match the certificate, reissued next time. */
async function writePair(p: PairPaths, pair: CertAndKey): Promise<void> {
  await write(p.key, pair.key, KEY_MODE);
  await write(p.cert, pair.cert, CERT_MODE);
}

/** A kept file gets its mode back if something loosened it. */
async function fixMode(path: string, mode: number): Promise<void> {
  const st = await Deno.stat(path);
  if (st.mode !== null && (st.mode & 0o777) !== mode) await Deno.chmod(path, mode);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function timely(notBefore: Date, notAfter: Date, now: Date): boolean {
  return notBefore.getTime() <= now.getTime() + 5 * 60_000 &&
    notAfter.getTime() - now.getTime() > KEEP_MIN_MS;
}

async function caUsable(pair: CertAndKey, commonName: string, now: Date): Promise<boolean> {
  let info;
  try {
    info = certInfo(pair.cert);
  } catch {
    return false;
  }
  return info.isCa && info.subject.commonName === commonName &&
    timely(info.notBefore, info.notAfter, now) &&
    await isIssuedBy(pair.cert, pair.cert) && await keyMatchesCert(pair.key, pair.cert);
}

async function leafUsable(
  pair: CertAndKey,
  spec: LeafSpec,
  caCert: string,
  now: Date,
): Promise<boolean> {
  let info;
  try {
    info = certInfo(pair.cert);
  } catch {
    return false;
  }
  return !info.isCa && info.version === 3 && info.subject.commonName === spec.commonName &&
    sameSet(info.subject.organizations, spec.organizations) && info.usage === spec.usage &&
    sameSet(info.dnsNames.map((d) => d.toLowerCase()), spec.dnsNames) &&
    sameSet(info.ips, spec.ips) && timely(info.notBefore, info.notAfter, now) &&
    await isIssuedBy(pair.cert, caCert) && await keyMatchesCert(pair.key, pair.cert);
}

/**
 * Makes whatever is missing or unfit of the cluster's certificates and keys under `dir` and keeps
 * the rest (see the module comment for the layout and the rules).
 */
export async function ensureClusterPki(
  dir: string,
  opts: ClusterPkiOptions,
): Promise<ClusterPkiResult> {
  validate(opts);
  const now = opts.now ?? new Date();
  const paths = clusterPkiPaths(dir);
  const created = new Set<PkiName>();
  const kept = new Set<PkiName>();
  const specs = leafSpecs(opts);

  const keep = async (name: PkiName, p: PairPaths) => {
    await Promise.all([fixMode(p.key, KEY_MODE), fixMode(p.cert, CERT_MODE)]);
    kept.add(name);
  };

  const tree = async (caName: CaName) => {
    const caPaths = pairOf(paths, caName);
    let ca = await readPair(caPaths);
    if (ca && await caUsable(ca, CA_COMMON_NAMES[caName], now)) await keep(caName, caPaths);
    else {
      ca = await makeCa(CA_COMMON_NAMES[caName], { now });
      await writePair(caPaths, ca);
      created.add(caName);
    }
    const issuer = ca;
    await Promise.all(
      specs.filter((s) => s.ca === caName).map(async (spec) => {
        const p = pairOf(paths, spec.name as Exclude<PkiName, "sa">);
        const current = await readPair(p);
        if (current && await leafUsable(current, spec, issuer.cert, now)) return keep(spec.name, p);
        const { commonName, organizations, usage, dnsNames, ips } = spec;
        const pair = await issueCert(issuer, {
          commonName,
          organizations,
          usage,
          dnsNames,
          ips,
          now,
        });
        await writePair(p, pair);
        created.add(spec.name);
      }),
    );
  };

  const serviceAccountKey = async () => {
    const key = await readText(paths.sa.key);
    const pub = await readText(paths.sa.pub);
    const wanted = key === undefined ? undefined : await publicKeyPem(key).catch(() => undefined);
    if (wanted !== undefined && pub === wanted) {
      await Promise.all([fixMode(paths.sa.key, KEY_MODE), fixMode(paths.sa.pub, CERT_MODE)]);
      kept.add("sa");
      return;
    }
    // A readable key stays (tokens signed with it stay valid); only its public half is rewritten.
    const pair = wanted !== undefined ? { key: key!, pub: wanted } : await makeKeyPair();
    if (wanted === undefined) await write(paths.sa.key, pair.key, KEY_MODE);
    await write(paths.sa.pub, pair.pub, CERT_MODE);
    created.add("sa");
  };

  await Promise.all([tree("ca"), tree("etcd/ca"), tree("front-proxy-ca"), serviceAccountKey()]);
  const order = (set: Set<PkiName>) => NAMES.map(([n]) => n).filter((n) => set.has(n));
  return { created: order(created), kept: order(kept), paths };
}

/** The components that get a kubeconfig, and the client certificate each one uses. */
export type KubeconfigComponent =
  | "admin"
  | "controller-manager"
  | "scheduler"
  | "kubelet"
  | "kube-proxy";

const KUBECONFIG_CERT: Record<KubeconfigComponent, Exclude<PkiName, "sa">> = {
  "admin": "admin",
  "controller-manager": "controller-manager",
  "scheduler": "scheduler",
  "kubelet": "kubelet-client",
  "kube-proxy": "kube-proxy",
};

export interface KubeconfigOptions {
  /** The API server's URL, e.g. `https://10.88.0.1:6443`. */
  server: string;
  /** Default `kubernetes` (kubeadm's). */
  clusterName?: string;
}

function b64(text: string): string {
  return btoa(text);
}

/**
 * A kubeconfig (YAML) for one component, made from the files {@link ensureClusterPki} wrote under
 * `dir`: the cluster CA and the component's client certificate and key inline, one cluster, one
 * user named after the certificate's CN (`kubernetes-admin`, `system:kube-scheduler`,
 * `system:node:<node>`…), one context `<user>@<cluster>`, current. It holds a private key: write it
 * 0600.
 */
export async function kubeconfigFor(
  dir: string,
  component: KubeconfigComponent,
  opts: KubeconfigOptions,
): Promise<string> {
  let url: URL | undefined;
  try {
    url = new URL(opts.server);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:") {
    throw new UsageError(
      `Cannot use "${opts.server}" as the API server URL: expected https://HOST:PORT`,
    );
  }
  const paths = clusterPkiPaths(dir);
  const pair = pairOf(paths, KUBECONFIG_CERT[component]);
  const [ca, cert, key] = await Promise.all([
    readText(paths.ca.cert),
    readText(pair.cert),
    readText(pair.key),
  ]);
  if (ca === undefined || cert === undefined || key === undefined) {
    throw new CncfdemoError(
      `Cannot write the ${component} kubeconfig: ${paths.ca.cert}, ${pair.cert} or ${pair.key} is missing; make the cluster's certificates first`,
    );
  }
  const user = certInfo(cert).subject.commonName ?? component;
  const cluster = opts.clusterName ?? "kubernetes";
  const context = `${user}@${cluster}`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{
      name: cluster,
      cluster: { "certificate-authority-data": b64(ca), server: opts.server },
    }],
    users: [{
      name: user,
      user: { "client-certificate-data": b64(cert), "client-key-data": b64(key) },
    }],
    contexts: [{ name: context, context: { cluster, user } }],
    "current-context": context,
    preferences: {},
  });
}
