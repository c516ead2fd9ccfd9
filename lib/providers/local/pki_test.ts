import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { resolveBinaries } from "../../binaries.ts";
import { CncfdemoError, UsageError } from "../../errors.ts";
import { log } from "../../log.ts";
import { certInfo, isIssuedBy, makeCa } from "../../pki.ts";
import { run } from "../../run_program.ts";
import { pollUntil, withTimeout } from "../../wait.ts";
import {
  type ClusterPkiOptions,
  ensureClusterPki,
  type KubeconfigComponent,
  kubeconfigFor,
  type PairPaths,
  type PkiName,
} from "./pki.ts";

const OPTS: ClusterPkiOptions = {
  nodeName: "demo-node",
  nodeIp: "10.88.0.1",
  serviceIp: "10.96.0.1",
};

const CA_TREES: Record<"ca" | "etcd/ca" | "front-proxy-ca", PkiName[]> = {
  "ca": [
    "apiserver",
    "apiserver-kubelet-client",
    "admin",
    "controller-manager",
    "scheduler",
    "kube-proxy",
    "kubelet-client",
    "kubelet-serving",
    "metrics-server",
    "controller-manager-serving",
    "scheduler-serving",
  ],
  "etcd/ca": ["etcd/server", "apiserver-etcd-client"],
  "front-proxy-ca": ["front-proxy-client"],
};

const ALL: PkiName[] = [
  "ca",
  ...CA_TREES["ca"],
  "etcd/ca",
  ...CA_TREES["etcd/ca"],
  "front-proxy-ca",
  ...CA_TREES["front-proxy-ca"],
  "sa",
];

/** Every leaf: its CA, subject as OpenSSL prints it, usage, and SANs as OpenSSL prints them. */
const LEAVES: Record<string, { ca: string; subject: string; usage: string; sans?: string }> = {
  "apiserver": {
    ca: "ca",
    subject: "CN = kube-apiserver",
    usage: "server",
    sans: "DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, " +
      "DNS:kubernetes.default.svc.cluster.local, DNS:localhost, DNS:demo-node, " +
      "IP Address:127.0.0.1, IP Address:10.88.0.1, IP Address:10.96.0.1",
  },
  "apiserver-kubelet-client": {
    ca: "ca",
    subject: "O = kubeadm:cluster-admins, CN = kube-apiserver-kubelet-client",
    usage: "client",
  },
  "admin": { ca: "ca", subject: "O = system:masters, CN = kubernetes-admin", usage: "client" },
  "controller-manager": {
    ca: "ca",
    subject: "CN = system:kube-controller-manager",
    usage: "client",
  },
  "scheduler": { ca: "ca", subject: "CN = system:kube-scheduler", usage: "client" },
  "kube-proxy": { ca: "ca", subject: "CN = system:kube-proxy", usage: "client" },
  "kubelet-client": {
    ca: "ca",
    subject: "O = system:nodes, CN = system:node:demo-node",
    usage: "client",
  },
  "kubelet-serving": {
    ca: "ca",
    subject: "O = system:nodes, CN = system:node:demo-node",
    usage: "server",
    sans: "DNS:demo-node, DNS:localhost, IP Address:10.88.0.1, IP Address:127.0.0.1",
  },
  "metrics-server": {
    ca: "ca",
    subject: "CN = metrics-server",
    usage: "server",
    sans: "DNS:metrics-server.kube-system.svc, DNS:metrics-server.kube-system.svc.cluster.local",
  },
  "controller-manager-serving": {
    ca: "ca",
    subject: "CN = controller-manager-serving",
    usage: "server",
    sans: "DNS:localhost, IP Address:127.0.0.1",
  },
  "scheduler-serving": {
    ca: "ca",
    subject: "CN = scheduler-serving",
    usage: "server",
    sans: "DNS:localhost, IP Address:127.0.0.1",
  },
  "etcd/server": {
    ca: "etcd/ca",
    subject: "CN = kube-etcd",
    usage: "both",
    sans: "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
  },
  "apiserver-etcd-client": {
    ca: "etcd/ca",
    subject: "CN = kube-apiserver-etcd-client",
    usage: "client",
  },
  "front-proxy-client": {
    ca: "front-proxy-ca",
    subject: "CN = front-proxy-client",
    usage: "client",
  },
};

const EKU_TEXT: Record<string, string> = {
  server: "TLS Web Server Authentication",
  client: "TLS Web Client Authentication",
  both: "TLS Web Server Authentication, TLS Web Client Authentication",
};

const OPENSSL = { installHint: "apt-get install openssl" };

async function openssl(...args: string[]): Promise<string> {
  return (await run("openssl", args, OPENSSL)).stdout;
}

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-cluster-pki-" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const pair = (dir: string, name: string): PairPaths => ({
  cert: `${dir}/${name}.crt`,
  key: `${dir}/${name}.key`,
});

/** Every file under `dir` (relative path → bytes as text). */
async function snapshot(dir: string, sub = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(`${dir}${sub}`)) {
    const rel = `${sub}/${e.name}`;
    if (e.isDirectory) { for (const [k, v] of await snapshot(dir, rel)) out.set(k, v); }
    else out.set(rel.slice(1), await Deno.readTextFile(`${dir}${rel}`));
  }
  return out;
}

function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n)).sort();
}

const filesOf = (names: PkiName[]) =>
  names.flatMap((n) => n === "sa" ? ["sa.key", "sa.pub"] : [`${n}.crt`, `${n}.key`]).sort();

Deno.test("the whole set: kubeadm's names and subjects, SANs, usages; OpenSSL verifies every leaf and key", async () => {
  await withDir(async (dir) => {
    const pki = `${dir}/pki`;
    const t0 = performance.now();
    const r = await ensureClusterPki(pki, OPTS);
    const coldMs = performance.now() - t0;
    assert.deepEqual(r.created, ALL);
    assert.deepEqual(r.kept, []);
    assert.equal(r.paths.apiserverEtcdClient.cert, `${pki}/apiserver-etcd-client.crt`);
    assert.equal(r.paths.etcdCa.key, `${pki}/etcd/ca.key`);
    assert.equal(r.paths.sa.pub, `${pki}/sa.pub`);
    // exactly these files (no temporaries left), keys 0600, the rest 0644
    const files = await snapshot(pki);
    assert.deepEqual([...files.keys()].sort(), filesOf(ALL));
    for (const f of files.keys()) {
      const mode = (await Deno.stat(`${pki}/${f}`)).mode! & 0o777;
      assert.equal(mode, f.endsWith(".key") ? 0o600 : 0o644, `${f} mode ${mode.toString(8)}`);
    }

    for (const [name, want] of Object.entries(LEAVES)) {
      const p = pair(pki, name);
      const caFile = `${pki}/${want.ca}.crt`;
      const purposes = want.usage === "both" ? ["sslserver", "sslclient"] : [
        want.usage === "server" ? "sslserver" : "sslclient",
      ];
      for (const purpose of purposes) {
        assert.equal(
          await openssl("verify", "-purpose", purpose, "-CAfile", caFile, p.cert),
          `${p.cert}: OK\n`,
        );
      }
      // not by another CA of the set
      const wrongCa = want.ca === "ca" ? `${pki}/front-proxy-ca.crt` : `${pki}/ca.crt`;
      const wrong = await run("openssl", ["verify", "-CAfile", wrongCa, p.cert], {
        ...OPENSSL,
        allowFailure: true,
      });
      assert.notEqual(wrong.code, 0, `${name} must not verify with ${wrongCa}`);

      const text = await openssl("x509", "-noout", "-text", "-in", p.cert);
      assert.match(text, /Version: 3 \(0x2\)/, name);
      assert.ok(text.includes(`Subject: ${want.subject}\n`), `${name}: ${text}`);
      assert.ok(
        text.includes(`Extended Key Usage: \n                ${EKU_TEXT[want.usage]}\n`),
        name,
      );
      assert.match(text, /Basic Constraints: critical\s+CA:FALSE/, name);
      assert.match(text, /Key Usage: critical\s+Digital Signature\n/, name);
      assert.match(text, /Subject Key Identifier/, name);
      assert.match(text, /Authority Key Identifier/, name);
      if (want.sans) {
        assert.ok(
          text.includes(`Subject Alternative Name: \n                ${want.sans}\n`),
          `${name}: ${text}`,
        );
      } else assert.doesNotMatch(text, /Subject Alternative Name/, name);
      // the key parses and is the certificate's
      await openssl("pkey", "-in", p.key, "-noout");
      assert.equal(
        await openssl("x509", "-noout", "-pubkey", "-in", p.cert),
        await openssl("pkey", "-pubout", "-in", p.key),
        `${name}: key and certificate differ`,
      );
      const days = (certInfo(files.get(`${name}.crt`)!).notAfter.getTime() - Date.now()) /
        86_400_000;
      assert.ok(days > 364 && days < 366, `${name} valid ${days} days`);
    }
    for (const ca of Object.keys(CA_TREES)) {
      const text = await openssl("x509", "-noout", "-text", "-in", `${pki}/${ca}.crt`);
      assert.match(text, /Basic Constraints: critical\s+CA:TRUE/, ca);
      assert.equal(
        await openssl("x509", "-noout", "-pubkey", "-in", `${pki}/${ca}.crt`),
        await openssl("pkey", "-pubout", "-in", `${pki}/${ca}.key`),
      );
    }
    assert.equal(certInfo(files.get("ca.crt")!).subject.commonName, "kubernetes");
    assert.equal(certInfo(files.get("etcd/ca.crt")!).subject.commonName, "etcd-ca");
    assert.equal(certInfo(files.get("front-proxy-ca.crt")!).subject.commonName, "front-proxy-ca");
    // sa.pub is sa.key's public key, as Kubernetes reads them (PKCS#8 / PUBLIC KEY)
    assert.match(files.get("sa.key")!, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(await openssl("pkey", "-pubout", "-in", `${pki}/sa.key`), files.get("sa.pub"));
    // A figure to read, not to assert (benchmarks go in tests/bench/).
    log.info(`cold ensureClusterPki: ${coldMs.toFixed(1)} ms`);
  });
});

Deno.test("ensureClusterPki keeps what fits and remakes only what does not", async () => {
  await withDir(async (dir) => {
    const pki = `${dir}/pki`;
    await ensureClusterPki(pki, OPTS);
    let before = await snapshot(pki);
    /** Runs again: `created` reported, the rest kept, and only `changed` (default: the created pairs) rewritten. */
    const again = async (
      opts: ClusterPkiOptions,
      created: PkiName[],
      changed = filesOf(created),
    ) => {
      const r = await ensureClusterPki(pki, opts);
      assert.deepEqual(r.created, created);
      assert.deepEqual(r.kept, ALL.filter((n) => !created.includes(n)));
      const after = await snapshot(pki);
      assert.deepEqual(changedFiles(before, after), changed);
      before = after;
      return after;
    };

    // a second run keeps everything, byte for byte
    await again(OPTS, []);

    // a new node address: the two certificates that carry it
    const moved = { ...OPTS, nodeIp: "10.88.0.7" };
    let files = await again(moved, ["apiserver", "kubelet-serving"]);
    assert.deepEqual(certInfo(files.get("apiserver.crt")!).ips, [
      "127.0.0.1",
      "10.88.0.7",
      "10.96.0.1",
    ]);
    assert.deepEqual(certInfo(files.get("kubelet-serving.crt")!).ips, ["10.88.0.7", "127.0.0.1"]);

    // an extra SAN: the apiserver alone; the same SANs in another order and case: nothing
    const extra = { ...moved, extraSans: ["api.example.test", "fd00::1"] };
    files = await again(extra, ["apiserver"]);
    assert.ok(certInfo(files.get("apiserver.crt")!).dnsNames.includes("api.example.test"));
    assert.ok(certInfo(files.get("apiserver.crt")!).ips.includes("fd00::1"));
    await again({ ...moved, extraSans: ["FD00:0::1", "API.example.test"] }, []);

    // a new node name: everything that names the node
    const renamed = { ...extra, nodeName: "other-node" };
    await again(renamed, ["apiserver", "kubelet-client", "kubelet-serving"]);

    // garbage in a certificate, a key swapped for another, a CA key for a leaf key
    await Deno.writeTextFile(`${pki}/admin.crt`, "not a certificate\n");
    await Deno.copyFile(`${pki}/kube-proxy.key`, `${pki}/scheduler.key`);
    await Deno.copyFile(`${pki}/ca.key`, `${pki}/metrics-server.key`);
    before = await snapshot(pki);
    await again(renamed, ["admin", "scheduler", "metrics-server"]);

    // a missing key: that pair
    await Deno.remove(`${pki}/front-proxy-client.key`);
    before = await snapshot(pki);
    await again(renamed, ["front-proxy-client"]);

    // a loosened key mode is tightened, and the pair kept
    await Deno.chmod(`${pki}/admin.key`, 0o644);
    await again(renamed, []);
    assert.equal((await Deno.stat(`${pki}/admin.key`)).mode! & 0o777, 0o600);

    // sa.pub lost: rewritten from sa.key (issued tokens stay valid)
    const saKey = before.get("sa.key");
    await Deno.remove(`${pki}/sa.pub`);
    before = await snapshot(pki);
    files = await again(renamed, ["sa"], ["sa.pub"]);
    assert.equal(files.get("sa.key"), saKey);

    // the kubernetes CA deleted: it and every certificate it signs; the other trees and sa stay
    await Deno.remove(`${pki}/ca.crt`);
    before = await snapshot(pki);
    files = await again(renamed, ["ca", ...CA_TREES["ca"]]);
    for (const leaf of CA_TREES["ca"]) {
      assert.ok(await isIssuedBy(files.get(`${leaf}.crt`)!, files.get("ca.crt")!), leaf);
      assert.equal(
        await openssl("verify", "-CAfile", `${pki}/ca.crt`, `${pki}/${leaf}.crt`),
        `${pki}/${leaf}.crt: OK\n`,
      );
    }

    // the etcd CA's key deleted: the etcd tree
    await Deno.remove(`${pki}/etcd/ca.key`);
    before = await snapshot(pki);
    await again(renamed, ["etcd/ca", ...CA_TREES["etcd/ca"]]);

    // a CA replaced by another with the same name: its leaves no longer verify, so they are remade
    const impostor = await makeCa("front-proxy-ca");
    await Deno.writeTextFile(`${pki}/front-proxy-ca.crt`, impostor.cert);
    await Deno.writeTextFile(`${pki}/front-proxy-ca.key`, impostor.key);
    before = await snapshot(pki);
    await again(renamed, ["front-proxy-client"]);

    // 340 days on, the one-year leaves have less than 30 days left; the ten-year CAs do not
    const later = { ...renamed, now: new Date(Date.now() + 340 * 86_400_000) };
    const r = await ensureClusterPki(pki, later);
    assert.deepEqual(
      r.created,
      ALL.filter((n) => !["ca", "etcd/ca", "front-proxy-ca", "sa"].includes(n)),
    );
    assert.deepEqual(r.kept, ["ca", "etcd/ca", "front-proxy-ca", "sa"]);
  });
});

Deno.test("ensureClusterPki refuses bad options with a one-line UsageError", async () => {
  await withDir(async (dir) => {
    await assert.rejects(
      ensureClusterPki(dir, { ...OPTS, nodeName: "Bad_Node" }),
      (e) => e instanceof UsageError && /"Bad_Node" as a node name/.test(e.message),
    );
    await assert.rejects(
      ensureClusterPki(dir, { ...OPTS, nodeIp: "10.88.0" }),
      (e) => e instanceof UsageError && /"10.88.0" as the node IP/.test(e.message),
    );
    await assert.rejects(
      ensureClusterPki(dir, { ...OPTS, extraSans: ["no spaces please"] }),
      (e) => e instanceof UsageError && /as an apiserver SAN/.test(e.message),
    );
    assert.deepEqual([...(await snapshot(dir)).keys()], [], "nothing written");
  });
});

/**
 * A TLS handshake on 127.0.0.1: Deno's server with `server`'s files, a client that trusts `caFile`
 * and checks the certificate against `name`. "ok", or the client's error.
 */
async function handshake(server: PairPaths, caFile: string, name: string): Promise<string> {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(server.cert),
    key: await Deno.readTextFile(server.key),
  });
  const served = (async () => {
    const conn = await listener.accept();
    try {
      await conn.handshake();
      await conn.write(new TextEncoder().encode("ok"));
    } catch {
      // the client refused the certificate
    } finally {
      conn.close();
    }
  })();
  try {
    return await withTimeout(
      (async () => {
        const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
        const tls = await Deno.startTls(tcp, {
          hostname: name,
          caCerts: [await Deno.readTextFile(caFile)],
        });
        try {
          await tls.handshake();
          const buf = new Uint8Array(2);
          const n = await tls.read(buf);
          return new TextDecoder().decode(buf.subarray(0, n ?? 0));
        } catch (err) {
          return err instanceof Error ? err.message : String(err);
        } finally {
          tls.close();
        }
      })(),
      10_000,
      `TLS handshake with ${name}`,
    );
  } finally {
    await withTimeout(served, 10_000, "the TLS server to finish").finally(() => listener.close());
  }
}

Deno.test("rustls (Deno's TLS) verifies the apiserver, kubelet and metrics-server certificates with the cluster CA", async () => {
  await withDir(async (dir) => {
    const { paths } = await ensureClusterPki(dir, OPTS);
    const ca = paths.ca.cert;
    for (
      const name of ["127.0.0.1", "10.96.0.1", "10.88.0.1", "kubernetes.default.svc", "demo-node"]
    ) {
      assert.equal(await handshake(paths.apiserver, ca, name), "ok", name);
    }
    assert.match(await handshake(paths.apiserver, ca, "example.com"), /not valid for name/);
    assert.match(await handshake(paths.apiserver, ca, "10.96.0.2"), /not valid for name/);
    assert.match(await handshake(paths.apiserver, paths.etcdCa.cert, "127.0.0.1"), /UnknownIssuer/);
    assert.match(
      await handshake(paths.apiserver, paths.frontProxyCa.cert, "127.0.0.1"),
      /UnknownIssuer/,
    );
    for (const name of ["10.88.0.1", "demo-node", "127.0.0.1", "localhost"]) {
      assert.equal(await handshake(paths.kubeletServing, ca, name), "ok", name);
    }
    assert.match(await handshake(paths.kubeletServing, ca, "10.96.0.1"), /not valid for name/);
    assert.equal(
      await handshake(paths.metricsServer, ca, "metrics-server.kube-system.svc"),
      "ok",
    );
    assert.equal(await handshake(paths.etcdServer, paths.etcdCa.cert, "127.0.0.1"), "ok");
    // a client certificate cannot serve
    assert.match(await handshake(paths.admin, ca, "127.0.0.1"), /extended key usage/);
  });
});

/**
 * Mutual TLS with OpenSSL on 127.0.0.1: `openssl s_server` with `server`, requiring a client
 * certificate that `trustCa` issued for clientAuth; `openssl s_client` with `client`, checking the
 * server for 127.0.0.1 against `serverCa`. Every wait has a deadline.
 */
async function mutualTls(
  server: PairPaths,
  trustCa: string,
  client: PairPaths,
  serverCa: string,
): Promise<{ accepted: boolean; page: string; serverLog: string }> {
  const child = new Deno.Command("openssl", {
    args: [
      "s_server",
      "-accept",
      "127.0.0.1:0",
      "-naccept",
      "1",
      "-cert",
      server.cert,
      "-key",
      server.key,
      "-CAfile",
      trustCa,
      "-Verify",
      "1",
      "-verify_return_error",
      "-www",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const serverLog = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const drained = (async () => {
    while (true) {
      const { value, done } = await lines.read();
      if (done) return;
      out += value;
    }
  })();
  try {
    const port = await pollUntil(() => /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out)?.[1], {
      timeoutMs: 10_000,
      intervalMs: 5,
      maxIntervalMs: 50,
      describe: () => `openssl s_server did not listen: ${out}`,
    });
    const r = await run("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-CAfile",
      serverCa,
      "-verify_return_error",
      "-verify_ip",
      "127.0.0.1",
      "-cert",
      client.cert,
      "-key",
      client.key,
      "-ign_eof",
      "-brief",
    ], {
      ...OPENSSL,
      stdin: "GET / HTTP/1.0\r\n\r\n",
      allowFailure: true,
      signal: AbortSignal.timeout(10_000),
    });
    await withTimeout(child.status, 10_000, "openssl s_server to end after its one connection");
    return {
      accepted: r.code === 0 && r.stdout.includes("HTTP/1.0 200 ok"),
      page: r.stdout,
      serverLog: await serverLog,
    };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already ended
    }
    await child.status;
    await drained;
  }
}

Deno.test("client certificates: OpenSSL's server trusting the cluster CA accepts the set's clients and no others", async () => {
  await withDir(async (dir) => {
    const { paths } = await ensureClusterPki(dir, OPTS);
    const ca = paths.ca.cert;
    for (
      const [client, cn] of [
        [paths.admin, "O=system:masters, CN=kubernetes-admin"],
        [paths.kubeletClient, "O=system:nodes, CN=system:node:demo-node"],
        [
          paths.apiserverKubeletClient,
          "O=kubeadm:cluster-admins, CN=kube-apiserver-kubelet-client",
        ],
        [paths.controllerManager, "CN=system:kube-controller-manager"],
      ] as const
    ) {
      const r = await mutualTls(paths.apiserver, ca, client, ca);
      assert.ok(r.accepted, `${client.cert}: ${r.serverLog}`);
      assert.ok(r.page.includes(`Client certificate\n`), r.page);
      assert.ok(r.page.includes(`Subject: ${cn}\n`), r.page);
    }
    // signed by another CA of the set
    const foreign = await mutualTls(paths.apiserver, ca, paths.frontProxyClient, ca);
    assert.equal(foreign.accepted, false);
    assert.match(foreign.serverLog, /unable to get local issuer certificate/);
    // a server-only certificate is no client certificate
    const serverOnly = await mutualTls(paths.apiserver, ca, paths.kubeletServing, ca);
    assert.equal(serverOnly.accepted, false);
    assert.match(serverOnly.serverLog, /unsuitable certificate purpose/);
    // etcd: the apiserver's etcd client against etcd's server+client certificate
    const etcd = paths.etcdCa.cert;
    assert.ok((await mutualTls(paths.etcdServer, etcd, paths.apiserverEtcdClient, etcd)).accepted);
    assert.equal((await mutualTls(paths.etcdServer, etcd, paths.admin, etcd)).accepted, false);
    // the aggregation layer's client, trusted by a server that trusts the front-proxy CA
    assert.ok(
      (await mutualTls(paths.apiserver, paths.frontProxyCa.cert, paths.frontProxyClient, ca))
        .accepted,
    );
  });
});

interface Kubeconfig {
  clusters: { name: string; cluster: Record<string, string> }[];
  users: { name: string; user: Record<string, string> }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  "current-context": string;
}

const decode = (b64: string) =>
  new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));

Deno.test("kubeconfigFor: the CA and the component's own certificate and key, inline", async () => {
  await withDir(async (dir) => {
    const { paths } = await ensureClusterPki(dir, OPTS);
    const want: Record<KubeconfigComponent, [PairPaths, string]> = {
      "admin": [paths.admin, "kubernetes-admin"],
      "controller-manager": [paths.controllerManager, "system:kube-controller-manager"],
      "scheduler": [paths.scheduler, "system:kube-scheduler"],
      "kubelet": [paths.kubeletClient, "system:node:demo-node"],
      "kube-proxy": [paths.kubeProxy, "system:kube-proxy"],
    };
    for (const [component, [p, user]] of Object.entries(want)) {
      const text = await kubeconfigFor(dir, component as KubeconfigComponent, {
        server: "https://10.88.0.1:6443",
      });
      const doc = parseYaml(text) as Kubeconfig;
      assert.equal(doc.clusters.length, 1);
      assert.equal(doc.clusters[0]!.name, "kubernetes");
      assert.equal(doc.clusters[0]!.cluster["server"], "https://10.88.0.1:6443");
      assert.equal(
        decode(doc.clusters[0]!.cluster["certificate-authority-data"]!),
        await Deno.readTextFile(paths.ca.cert),
      );
      assert.equal(doc.users[0]!.name, user);
      assert.equal(
        decode(doc.users[0]!.user["client-certificate-data"]!),
        await Deno.readTextFile(p.cert),
      );
      assert.equal(decode(doc.users[0]!.user["client-key-data"]!), await Deno.readTextFile(p.key));
      assert.deepEqual(doc.contexts, [{
        name: `${user}@kubernetes`,
        context: { cluster: "kubernetes", user },
      }]);
      assert.equal(doc["current-context"], `${user}@kubernetes`);
    }
    const named = parseYaml(
      await kubeconfigFor(dir, "admin", { server: "https://127.0.0.1:6443", clusterName: "demo" }),
    ) as Kubeconfig;
    assert.equal(named["current-context"], "kubernetes-admin@demo");
    await assert.rejects(
      kubeconfigFor(dir, "admin", { server: "http://127.0.0.1:6443" }),
      (e) => e instanceof UsageError && /expected https:\/\/HOST:PORT/.test(e.message),
    );
    await assert.rejects(
      kubeconfigFor(`${dir}/nowhere`, "admin", { server: "https://127.0.0.1:6443" }),
      (e) => e instanceof CncfdemoError && /make the cluster's certificates first/.test(e.message),
    );
  });
});

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/** A long-running program; stderr drained (its tail kept for messages); stop() ends it. */
function start(cmd: string, args: string[]) {
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "piped" })
    .spawn();
  let tail = "";
  const draining = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      tail = (tail + chunk).slice(-3_000);
    }
  })().catch(() => {});
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    tail: () => tail,
    exited: () => exited,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      await withTimeout(status, 20_000, `${cmd} to stop`).catch(async () => {
        child.kill("SIGKILL");
        await status;
      });
      await draining;
    },
  };
}

Deno.test("a real etcd and kube-apiserver run on the set; each kubeconfig authenticates as its component; ServiceAccount tokens and the front proxy work", async () => {
  const bins = (await resolveBinaries(["etcd", "kube-apiserver", "kubectl"])).paths;
  await withDir(async (dir) => {
    const pki = `${dir}/pki`;
    const { paths: p } = await ensureClusterPki(pki, OPTS);
    const [etcdPort, peerPort, apiPort] = [freePort(), freePort(), freePort()];
    const etcd = start(bins.etcd, [
      "--name=pki-test",
      `--data-dir=${dir}/etcd`,
      `--listen-client-urls=https://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=https://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=pki-test=http://127.0.0.1:${peerPort}`,
      `--cert-file=${p.etcdServer.cert}`,
      `--key-file=${p.etcdServer.key}`,
      "--client-cert-auth",
      `--trusted-ca-file=${p.etcdCa.cert}`,
    ]);
    const apiserver = start(bins["kube-apiserver"], [
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      "--endpoint-reconciler-type=none",
      `--secure-port=${apiPort}`,
      `--etcd-servers=https://127.0.0.1:${etcdPort}`,
      `--etcd-cafile=${p.etcdCa.cert}`,
      `--etcd-certfile=${p.apiserverEtcdClient.cert}`,
      `--etcd-keyfile=${p.apiserverEtcdClient.key}`,
      `--tls-cert-file=${p.apiserver.cert}`,
      `--tls-private-key-file=${p.apiserver.key}`,
      `--client-ca-file=${p.ca.cert}`,
      `--kubelet-client-certificate=${p.apiserverKubeletClient.cert}`,
      `--kubelet-client-key=${p.apiserverKubeletClient.key}`,
      `--kubelet-certificate-authority=${p.ca.cert}`,
      `--service-account-key-file=${p.sa.pub}`,
      `--service-account-signing-key-file=${p.sa.key}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      "--service-cluster-ip-range=10.96.0.0/12",
      "--authorization-mode=Node,RBAC",
      `--requestheader-client-ca-file=${p.frontProxyCa.cert}`,
      "--requestheader-allowed-names=front-proxy-client",
      "--requestheader-username-headers=X-Remote-User",
      "--requestheader-group-headers=X-Remote-Group",
      "--requestheader-extra-headers-prefix=X-Remote-Extra-",
      `--proxy-client-cert-file=${p.frontProxyClient.cert}`,
      `--proxy-client-key-file=${p.frontProxyClient.key}`,
    ]);
    const server = `https://127.0.0.1:${apiPort}`;
    const tls = (pair?: PairPaths) =>
      Promise.all([
        Deno.readTextFile(p.ca.cert),
        pair ? Deno.readTextFile(pair.cert) : undefined,
        pair ? Deno.readTextFile(pair.key) : undefined,
      ]).then(([ca, cert, key]) =>
        Deno.createHttpClient({ caCerts: [ca], ...(cert && key ? { cert, key } : {}) })
      );
    const admin = await tls(p.admin);
    const anonymous = await tls();
    const frontProxy = await tls(p.frontProxyClient);
    /** Who the API server says the caller is. */
    const whoami = async (client: Deno.HttpClient, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
        method: "POST",
        client,
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await res.json();
      return body.status?.userInfo as { username: string; groups: string[] };
    };
    try {
      await pollUntil(async () => {
        if (etcd.exited()) throw new Error(`etcd exited: ${etcd.tail()}`);
        if (apiserver.exited()) throw new Error(`kube-apiserver exited: ${apiserver.tail()}`);
        try {
          const res = await fetch(`${server}/readyz`, {
            client: admin,
            signal: AbortSignal.timeout(2_000),
          });
          await res.body?.cancel();
          return res.ok;
        } catch {
          return false;
        }
      }, {
        timeoutMs: 60_000,
        describe: () => `kube-apiserver not ready at ${server}/readyz: ${apiserver.tail()}`,
      });

      for (
        const [component, user, group] of [
          ["admin", "kubernetes-admin", "system:masters"],
          ["controller-manager", "system:kube-controller-manager", "system:authenticated"],
          ["scheduler", "system:kube-scheduler", "system:authenticated"],
          ["kubelet", "system:node:demo-node", "system:nodes"],
          ["kube-proxy", "system:kube-proxy", "system:authenticated"],
        ] as const
      ) {
        const file = `${dir}/${component}.conf`;
        await Deno.writeTextFile(file, await kubeconfigFor(pki, component, { server }), {
          mode: 0o600,
        });
        const r = await run(bins.kubectl, ["--kubeconfig", file, "auth", "whoami", "-o", "json"]);
        const info = JSON.parse(r.stdout).status.userInfo;
        assert.equal(info.username, user, component);
        assert.ok(info.groups.includes(group), `${component}: ${info.groups}`);
      }
      // the same server reached by a name in its SANs (kubectl checks the certificate)
      await Deno.writeTextFile(
        `${dir}/localhost.conf`,
        await kubeconfigFor(pki, "admin", { server: `https://localhost:${apiPort}` }),
      );
      await run(bins.kubectl, ["--kubeconfig", `${dir}/localhost.conf`, "get", "--raw", "/livez"]);

      // a ServiceAccount token, signed with sa.key (ES256) and checked with sa.pub
      const adminConf = ["--kubeconfig", `${dir}/admin.conf`, "-n", "default"];
      await run(bins.kubectl, [...adminConf, "create", "serviceaccount", "pki-probe"]);
      const token = (await run(bins.kubectl, [...adminConf, "create", "token", "pki-probe"]))
        .stdout.trim();
      assert.equal(
        JSON.parse(decode(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))).alg,
        "ES256",
      );
      const sa = await whoami(anonymous, { authorization: `Bearer ${token}` });
      assert.equal(sa.username, "system:serviceaccount:default:pki-probe");

      // the aggregation layer: front-proxy-client's certificate makes request headers trusted
      const proxied = await whoami(frontProxy, {
        "X-Remote-User": "alice",
        "X-Remote-Group": "team-a",
      });
      assert.equal(proxied.username, "alice");
      assert.ok(proxied.groups.includes("team-a"));
      // … and no other client's does
      const spoofed = await whoami(admin, { "X-Remote-User": "alice" });
      assert.equal(spoofed.username, "kubernetes-admin");
    } finally {
      admin.close();
      anonymous.close();
      frontProxy.close();
      await apiserver.stop();
      await etcd.stop();
    }
  });
});
