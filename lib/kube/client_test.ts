import assert from "node:assert/strict";
import { CncfdemoError, UsageError } from "../errors.ts";
import { makeCa } from "../pki.ts";
import { connectKube, loadKubeConfig } from "./client.ts";

async function kubeconfigFor(server: string): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config`;
  const ca = btoa((await makeCa("test-ca")).cert);
  await Deno.writeTextFile(
    path,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", certificate-authority-data: ${ca}}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: one, context: {cluster: c, user: u}}, {name: two, context: {cluster: c, user: u}}]
current-context: one
`,
  );
  return { dir, path };
}

Deno.test("kube client: picks the current context or --context", async () => {
  const { dir, path } = await kubeconfigFor("https://127.0.0.1:1");
  assert.equal(loadKubeConfig({ kubeconfig: path }).getCurrentContext(), "one");
  assert.equal(loadKubeConfig({ kubeconfig: path, context: "two" }).getCurrentContext(), "two");
  assert.throws(
    () => loadKubeConfig({ kubeconfig: path, context: "three" }),
    (e) =>
      e instanceof UsageError &&
      e.message === `Context "three" not found in ${path}: available contexts are one, two`,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kube client: missing, unreadable and malformed kubeconfigs give one line", async () => {
  const dir = await Deno.makeTempDir();
  assert.throws(
    () => loadKubeConfig({ kubeconfig: `${dir}/nope` }),
    (e) =>
      e instanceof UsageError &&
      e.message.startsWith(`Cannot read kubeconfig ${dir}/nope: no such file`),
  );
  assert.throws(
    () => loadKubeConfig({ kubeconfig: dir }),
    (e) =>
      e instanceof UsageError &&
      e.message === `Cannot read kubeconfig ${dir}: it is a directory, not a file`,
  );
  await Deno.writeTextFile(`${dir}/bad`, "{{{");
  assert.throws(
    () => loadKubeConfig({ kubeconfig: `${dir}/bad` }),
    /^UsageError: Cannot parse kubeconfig/,
  );
  await Deno.writeTextFile(`${dir}/empty`, "apiVersion: v1\nkind: Config\n");
  assert.throws(() => loadKubeConfig({ kubeconfig: `${dir}/empty` }), /No current context/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kube client: an API server that does not answer is one line naming it", async () => {
  // A port that was just free: nothing listens, so the connection is refused.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const { dir, path } = await kubeconfigFor(`https://127.0.0.1:${port}`);
  await assert.rejects(
    connectKube({ kubeconfig: path }, { timeoutMs: 5_000 }),
    (e) =>
      e instanceof CncfdemoError &&
      e.message.startsWith(
        `Cannot reach the Kubernetes API server at https://127.0.0.1:${port} (context one): connection refused`,
      ),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kube client: a server that accepts but never answers times out", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const { dir, path } = await kubeconfigFor(`https://127.0.0.1:${port}`);
  await assert.rejects(
    connectKube({ kubeconfig: path }, { timeoutMs: 300 }),
    (e) => e instanceof CncfdemoError && /: no answer \(timed out\)/.test(e.message),
  );
  listener.close();
  for (const c of held) c.close();
  await accepting.catch(() => {});
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kube client: a context that skips TLS verification is refused in one line", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config`;
  await Deno.writeTextFile(
    path,
    `clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: one, context: {cluster: c, user: u}}]
current-context: one
`,
  );
  await assert.rejects(
    connectKube({ kubeconfig: path }),
    (e) => e instanceof UsageError && /skips TLS verification/.test(e.message),
  );
  await Deno.remove(dir, { recursive: true });
});
