import assert from "node:assert/strict";
import { parse } from "yaml";
import { UsageError } from "../errors.ts";
import {
  assertKubeconfigWritable,
  defaultKubeconfigPath,
  kubeContexts,
  mergeKubeconfigs,
  mergeKubeEntry,
  readMergedKubeconfig,
  removeKubeEntry,
  withKubeconfigLock,
} from "./kubeconfig.ts";

const OTHER = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod.example:6443"}
users:
- name: prod
  user: {token: secret}
contexts:
- name: prod
  context: {cluster: prod, user: prod, namespace: web}
current-context: prod
preferences: {colors: true}
`;

const entry = {
  name: "sim-a",
  server: "https://127.0.0.1:32764",
  certificateAuthorityData: "Q0E=",
  clientCertificateData: "Q0VSVA==",
  clientKeyData: "S0VZ",
};

Deno.test("kubeconfig: merge adds entries, makes the context current and keeps the rest", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config`;
  await Deno.writeTextFile(path, OTHER);
  await mergeKubeEntry(path, entry);
  // deno-lint-ignore no-explicit-any
  const doc = parse(await Deno.readTextFile(path)) as any;
  assert.equal(doc["current-context"], "sim-a");
  assert.deepEqual(doc.contexts.map((c: { name: string }) => c.name), ["prod", "sim-a"]);
  assert.equal(doc.contexts[0].context.namespace, "web");
  assert.equal(doc.users[0].user.token, "secret");
  assert.equal(doc.preferences.colors, true);
  assert.equal(doc.clusters[1].cluster["certificate-authority-data"], "Q0E=");
  assert.equal(doc.users[1].user["client-key-data"], "S0VZ");
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);

  // merging again replaces, not duplicates
  await mergeKubeEntry(path, { ...entry, server: "https://127.0.0.1:1111" });
  // deno-lint-ignore no-explicit-any
  const again = parse(await Deno.readTextFile(path)) as any;
  assert.equal(again.clusters.filter((c: { name: string }) => c.name === "sim-a").length, 1);
  assert.equal(again.clusters[1].cluster.server, "https://127.0.0.1:1111");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kubeconfig: merge creates a missing file and its directory", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/nested/.kube/config`;
  await mergeKubeEntry(path, entry);
  assert.deepEqual(await kubeContexts(path), ["sim-a"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kubeconfig: remove takes out only the named entries and is safe to repeat", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config`;
  await Deno.writeTextFile(path, OTHER);
  await mergeKubeEntry(path, entry);
  assert.equal(await removeKubeEntry(path, "sim-a"), true);
  // deno-lint-ignore no-explicit-any
  const doc = parse(await Deno.readTextFile(path)) as any;
  assert.deepEqual(doc.clusters.map((c: { name: string }) => c.name), ["prod"]);
  assert.deepEqual(doc.users.map((c: { name: string }) => c.name), ["prod"]);
  assert.equal(doc["current-context"], "");
  assert.equal(await removeKubeEntry(path, "sim-a"), false);
  assert.equal(await removeKubeEntry(`${dir}/missing`, "sim-a"), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kubeconfig: unusable files are refused before anything is written", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(
    assertKubeconfigWritable(dir),
    (e) => e instanceof UsageError && /is a directory/.test(e.message),
  );
  await Deno.writeTextFile(`${dir}/bad`, "clusters: [unclosed");
  await assert.rejects(
    assertKubeconfigWritable(`${dir}/bad`),
    (e) => e instanceof UsageError && /^Cannot parse kubeconfig/.test(e.message),
  );
  await Deno.writeTextFile(`${dir}/list`, "- a\n- b\n");
  await assert.rejects(mergeKubeEntry(`${dir}/list`, entry), /not a kubeconfig mapping/);
  assert.equal(await Deno.readTextFile(`${dir}/list`), "- a\n- b\n");
  await assertKubeconfigWritable(`${dir}/does-not-exist`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kubeconfig merge rules: first current-context, first definition of a name, paths per file", () => {
  const merged = mergeKubeconfigs([
    {
      path: "/home/u/.kube/a",
      doc: {
        clusters: [{
          name: "dup",
          cluster: { server: "https://a", "certificate-authority": "ca.crt" },
        }],
        users: [{
          name: "dup",
          user: { "client-certificate": "/abs/c.crt", "client-key": "keys/c.key", tokenFile: "t" },
        }],
        contexts: [{ name: "dup", context: { cluster: "dup", user: "dup" } }],
      },
    },
    {
      path: "/etc/kube/b",
      doc: {
        clusters: [
          { name: "dup", cluster: { server: "https://b" } },
          {
            name: "b",
            cluster: { server: "https://b2", "certificate-authority": "../pki/ca.crt" },
          },
        ],
        users: [
          { name: "dup", user: { token: "b" } },
          { name: "plug", user: { exec: { command: "bin/plugin", args: ["x"] } } },
          { name: "path", user: { exec: { command: "aws" } } },
        ],
        contexts: [{ name: "b", context: { cluster: "b", user: "plug" } }],
        "current-context": "b",
      },
    },
    { path: "/c", doc: { "current-context": "dup" } },
  ]);
  // no file before b set a current context; c's comes later and loses
  assert.equal(merged["current-context"], "b");
  assert.deepEqual(merged.clusters, [
    {
      name: "dup",
      cluster: { server: "https://a", "certificate-authority": "/home/u/.kube/ca.crt" },
    },
    {
      name: "b",
      cluster: { server: "https://b2", "certificate-authority": "/etc/kube/../pki/ca.crt" },
    },
  ]);
  assert.deepEqual(merged.users, [
    {
      name: "dup",
      user: {
        "client-certificate": "/abs/c.crt",
        "client-key": "/home/u/.kube/keys/c.key",
        tokenFile: "/home/u/.kube/t",
      },
    },
    { name: "plug", user: { exec: { command: "/etc/kube/bin/plugin", args: ["x"] } } },
    { name: "path", user: { exec: { command: "aws" } } }, // looked up in PATH, as client-go does
  ]);
  assert.deepEqual(merged.contexts!.map((c) => c.name), ["dup", "b"]);
  // the first file sets current-context: it wins over b's
  const first = mergeKubeconfigs([
    { path: "/x/a", doc: { "current-context": "a" } },
    { path: "/x/b", doc: { "current-context": "b" } },
  ]);
  assert.equal(first["current-context"], "a");
});

async function withEnv(
  vars: Record<string, string | undefined>,
  fn: () => Promise<void> | void,
): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      x === undefined ? Deno.env.delete(k) : Deno.env.set(k, x);
    }
  };
  set(vars);
  try {
    await fn();
  } finally {
    set(saved);
  }
}

Deno.test("kubeconfig: the file written is the one kind chooses", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/b`, OTHER);
  await withEnv({ KUBECONFIG: `${dir}/a:${dir}/b:${dir}/c`, HOME: dir }, () => {
    assert.equal(defaultKubeconfigPath(), `${dir}/b`); // the first that exists
    assert.equal(defaultKubeconfigPath(`${dir}/x`), `${dir}/x`); // --kubeconfig
  });
  await withEnv({ KUBECONFIG: `${dir}/a::${dir}/c:${dir}/a`, HOME: dir }, () => {
    assert.equal(defaultKubeconfigPath(), `${dir}/c`); // none exists: the last
  });
  await withEnv({ KUBECONFIG: "", HOME: dir }, () => {
    assert.equal(defaultKubeconfigPath(), `${dir}/.kube/config`);
  });
  // reading a list of which no file exists names the first
  await withEnv({ KUBECONFIG: `${dir}/a:${dir}/c` }, () => {
    assert.throws(
      () => readMergedKubeconfig(),
      (e) =>
        e instanceof UsageError &&
        e.message.startsWith(`Cannot read kubeconfig ${dir}/a: no such file`),
    );
  });
  // the same name in two files is no error: the first wins
  await Deno.writeTextFile(`${dir}/d`, OTHER.replace("https://prod.example:6443", "https://later"));
  await withEnv({ KUBECONFIG: `${dir}/b:${dir}/d` }, () => {
    const { doc, files } = readMergedKubeconfig();
    assert.deepEqual(files, [`${dir}/b`, `${dir}/d`]);
    assert.deepEqual(doc.clusters, [{
      name: "prod",
      cluster: { server: "https://prod.example:6443" },
    }]);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kubeconfig: a symlinked file stays a symlink; its target gets the entry", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/dotfiles`);
  await Deno.writeTextFile(`${dir}/dotfiles/kubeconfig`, OTHER);
  await Deno.mkdir(`${dir}/.kube`);
  await Deno.symlink("../dotfiles/kubeconfig", `${dir}/.kube/config`);
  await mergeKubeEntry(`${dir}/.kube/config`, entry);
  assert.ok((await Deno.lstat(`${dir}/.kube/config`)).isSymlink);
  assert.deepEqual(await kubeContexts(`${dir}/dotfiles/kubeconfig`), ["prod", "sim-a"]);
  assert.equal(await removeKubeEntry(`${dir}/.kube/config`, "sim-a"), true);
  assert.ok((await Deno.lstat(`${dir}/.kube/config`)).isSymlink);
  assert.deepEqual(await kubeContexts(`${dir}/dotfiles/kubeconfig`), ["prod"]);
  // a dangling link: the write creates its target
  await Deno.symlink(`${dir}/new/config`, `${dir}/dangling`);
  await Deno.mkdir(`${dir}/new`);
  await mergeKubeEntry(`${dir}/dangling`, entry);
  assert.ok((await Deno.lstat(`${dir}/dangling`)).isSymlink);
  assert.deepEqual(await kubeContexts(`${dir}/new/config`), ["sim-a"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kubeconfig: writers take <file>.lock in turn; none loses its entry", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config`;
  const names = Array.from({ length: 12 }, (_, i) => `c${i}`);
  await Promise.all(names.map((name) => mergeKubeEntry(path, { ...entry, name }, false)));
  assert.deepEqual((await kubeContexts(path)).sort(), names.sort());
  await assert.rejects(Deno.lstat(`${path}.lock`), Deno.errors.NotFound);
  // a lock held by someone else (kind, kubectl) is waited for
  const order: string[] = [];
  let release!: () => void;
  const holding = Promise.withResolvers<void>();
  const held = withKubeconfigLock(path, () => {
    order.push("held");
    holding.resolve();
    return new Promise<void>((r) => release = r);
  });
  await holding.promise;
  const waiting = mergeKubeEntry(path, { ...entry, name: "late" }).then(() => order.push("merged"));
  // a negative check needs a window: the waiting writer had several lock polls to (wrongly) go ahead
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(order, ["held"]);
  release();
  await Promise.all([held, waiting]);
  assert.deepEqual(order, ["held", "merged"]);
  assert.ok((await kubeContexts(path)).includes("late"));
  await Deno.remove(dir, { recursive: true });
});
