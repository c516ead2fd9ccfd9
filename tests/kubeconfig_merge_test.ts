/**
 * Kubeconfigs read as kubectl reads them and written as kind writes them, checked against the real
 * kubectl (the pinned build) and real processes: `KUBECONFIG=a:b` with the same names in both and
 * two current contexts, relative file references (kubectl `--flatten` inlines what it resolved), a
 * relative CA path that lets a TLS handshake succeed from another working directory, and two
 * `bootstrap:sim` at once into one kubeconfig.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { resolveBinaries } from "../lib/binaries.ts";
import { connectKube, loadKubeConfig } from "../lib/kube/client.ts";
import { readMergedKubeconfig } from "../lib/kube/kubeconfig.ts";
import { issueCert, makeCa } from "../lib/pki.ts";
import { sandbox } from "./support/env.ts";

const A = `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: "https://a.example:6443", certificate-authority: ca.crt}
users:
- name: shared
  user: {token: from-a}
contexts:
- name: shared
  context: {cluster: shared, user: shared}
current-context: shared
`;

const B = `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: "https://b.example:6443", certificate-authority: ca.crt}
- name: only-b
  cluster: {server: "https://onlyb.example:6443", certificate-authority: certs/ca.crt}
users:
- name: shared
  user: {token: from-b}
- name: only-b
  user: {client-certificate: certs/client.crt, client-key: certs/client.key}
contexts:
- name: shared
  context: {cluster: only-b, user: only-b}
- name: only-b
  context: {cluster: only-b, user: only-b, namespace: x}
current-context: only-b
`;

interface Named {
  name: string;
  [k: string]: unknown;
}

function byName(list: Named[] | null | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ name, ...rest }) => [name, rest]));
}

/** Inlines file references the way `kubectl config view --flatten` does. */
async function flatten(list: Named[], kind: "cluster" | "user"): Promise<Record<string, unknown>> {
  const refs = kind === "cluster"
    ? [["certificate-authority", "certificate-authority-data"]]
    : [["client-certificate", "client-certificate-data"], ["client-key", "client-key-data"]];
  const out: Record<string, unknown> = {};
  for (const e of list) {
    const body = { ...(e[kind] as Record<string, string>) };
    for (const [file, data] of refs) {
      if (body[file!]) {
        body[data!] = btoa(await Deno.readTextFile(body[file!]!));
        delete body[file!];
      }
    }
    out[e.name] = { [kind]: body };
  }
  return out;
}

Deno.test("KUBECONFIG=a:b merges as kubectl merges: first current-context, first definition of a name, paths per file", async () => {
  const kubectl = (await resolveBinaries(["kubectl"], { noBuild: true })).paths.kubectl;
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-kc-" });
  const saved = Deno.env.get("KUBECONFIG");
  try {
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b/certs`, { recursive: true });
    await Deno.writeTextFile(`${dir}/a/config`, A);
    await Deno.writeTextFile(`${dir}/b/config`, B);
    await Deno.writeTextFile(`${dir}/a/ca.crt`, "CA of a\n");
    await Deno.writeTextFile(`${dir}/b/ca.crt`, "CA of b\n");
    await Deno.writeTextFile(`${dir}/b/certs/ca.crt`, "CA of b/certs\n");
    await Deno.writeTextFile(`${dir}/b/certs/client.crt`, "client cert\n");
    await Deno.writeTextFile(`${dir}/b/certs/client.key`, "client key\n");
    // a missing file in the list is skipped, as kubectl skips it
    const list = `${dir}/a/config:${dir}/missing:${dir}/b/config`;
    const env = { KUBECONFIG: list };
    const cwd = "/"; // relative references must not depend on the working directory
    const kubectlSays = async (...args: string[]) => {
      const out = await new Deno.Command(kubectl, {
        args,
        env,
        cwd,
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return new TextDecoder().decode(out.stdout);
    };
    const theirs = JSON.parse(
      await kubectlSays("config", "view", "--merge", "--raw", "--flatten", "-o", "json"),
    );
    const current = (await kubectlSays("config", "current-context")).trim();

    Deno.env.set("KUBECONFIG", list);
    const { doc } = readMergedKubeconfig();
    assert.equal(doc["current-context"], theirs["current-context"]);
    assert.equal(doc["current-context"], current);
    assert.equal(current, "shared");
    assert.deepEqual(byName(doc.contexts), byName(theirs.contexts));
    assert.deepEqual(await flatten(doc.clusters!, "cluster"), byName(theirs.clusters));
    assert.deepEqual(await flatten(doc.users!, "user"), byName(theirs.users));
    // and the client built from it uses the first definitions
    const kc = loadKubeConfig();
    assert.equal(kc.getCurrentCluster()?.server, "https://a.example:6443");
    assert.equal(kc.getCurrentUser()?.token, "from-a");
    assert.equal(
      loadKubeConfig({ context: "only-b" }).getCurrentUser()?.certFile,
      `${dir}/b/certs/client.crt`,
    );
  } finally {
    if (saved === undefined) Deno.env.delete("KUBECONFIG");
    else Deno.env.set("KUBECONFIG", saved);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a relative certificate-authority resolves against the kubeconfig's folder: TLS verifies from any working directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-kc-" });
  const ca = await makeCa("cncfdemo-test-ca");
  const server = await issueCert(ca, {
    commonName: "127.0.0.1",
    ips: ["127.0.0.1"],
    usage: "server",
  });
  const ac = new AbortController();
  const http = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      cert: server.cert,
      key: server.key,
      signal: ac.signal,
      onListen: () => {},
    },
    (req) =>
      new URL(req.url).pathname === "/version"
        ? Response.json({ gitVersion: "v0.0.0-test" })
        : new Response("{}", { status: 404 }),
  );
  try {
    await Deno.mkdir(`${dir}/kube/pki`, { recursive: true });
    await Deno.writeTextFile(`${dir}/kube/pki/ca.crt`, ca.cert);
    await Deno.writeTextFile(
      `${dir}/kube/config`,
      `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${http.addr.port}", certificate-authority: pki/ca.crt}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: here, context: {cluster: c, user: u}}]
current-context: here
`,
    );
    // Deno.cwd() is the repository, not ${dir}/kube: a path resolved against it would not exist.
    const kube = await connectKube({ kubeconfig: `${dir}/kube/config` }, { timeoutMs: 5_000 });
    assert.equal(kube.kc.getCurrentCluster()?.caFile, `${dir}/kube/pki/ca.crt`);
    kube.close();
  } finally {
    ac.abort();
    await http.finished;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two bootstrap:sim at once into one (symlinked) kubeconfig: both entries land, the link stays", async () => {
  const sb = await sandbox();
  const names = [0, 1].map(() => `t-${crypto.randomUUID().slice(0, 6)}`);
  const target = `${sb.dir}/real/config`;
  try {
    await Deno.mkdir(`${sb.dir}/real`);
    await Deno.mkdir(`${sb.dir}/kube`);
    await Deno.symlink("../real/config", sb.kubeconfig);
    // Started together: their control planes start one after the other (kwokctl's ports), then
    // both wait for their API servers and merge their contexts into the one file.
    const ups = await Promise.all(
      names.map((name) => sb.task("bootstrap_sim.ts", ["--name", name, "--nodes", "1"])),
    );
    for (const up of ups) assert.equal(up.code, 0, up.stderr);
    assert.ok((await Deno.lstat(sb.kubeconfig)).isSymlink, "the kubeconfig is still a symlink");
    // deno-lint-ignore no-explicit-any
    const doc = parse(await Deno.readTextFile(target)) as any;
    const contexts = doc.contexts.map((c: { name: string }) => c.name).sort();
    assert.deepEqual(contexts, names.map((n) => `sim-${n}`).sort());
    await assert.rejects(Deno.lstat(`${sb.kubeconfig}.lock`), Deno.errors.NotFound);
    for (const name of names) {
      const kube = await connectKube({ context: `sim-${name}`, kubeconfig: sb.kubeconfig });
      kube.close();
    }
  } finally {
    const downs = await Promise.all(
      names.map((name) => sb.task("teardown.ts", ["--provider", "sim", "--name", name])),
    );
    await sb.cleanup();
    for (const down of downs) assert.equal(down.code, 0, down.stderr);
  }
});
