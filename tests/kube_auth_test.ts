/**
 * Every task reaches the cluster with the kubeconfig's own authentication: against a real control
 * plane (simulated nodes), a ServiceAccount with cluster-admin and a token from the TokenRequest
 * API, handed over by an exec credential plugin (as EKS, GKE and AKS do) and by a token file,
 * drives `rollout`, `create` and `teardown --apps`; a plugin handing out a refused token ends each
 * in one line saying so. On the way: the bench finds a rollout's namespaces by label.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import type { Sandbox } from "./support/env.ts";
import { withSimCluster } from "./support/sim_cluster.ts";
import { deployedNamespaces } from "../lib/bench/deployed_namespaces.ts";
import type { Kube } from "../lib/kube/client.ts";
import { commonLabels } from "../lib/stack/components.ts";

/** Only the Pushgateway: a rollout of three objects that is ready in seconds on kwok nodes. */
const SMALL = [
  "mongo.enabled=false",
  "countly.enabled=false",
  "grafana.enabled=false",
  "boinc.enabled=false",
  "prometheus.enabled=false",
  "nodeExporter.enabled=false",
].flatMap((s) => ["--set", s]);

const SA = "cncfdemo-auth-test";

/** A ServiceAccount bound to cluster-admin, and a token for it from the TokenRequest API. */
async function serviceAccountToken(kube: Kube): Promise<string> {
  await kube.rest.apply({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: SA, namespace: "kube-system" },
  }, { fieldManager: "cncfdemo-test" });
  await kube.rest.apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: SA },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
    subjects: [{ kind: "ServiceAccount", name: SA, namespace: "kube-system" }],
  } as never, { fieldManager: "cncfdemo-test" });
  const tr = await kube.rest.request<{ status: { token: string } }>(
    "POST",
    `/api/v1/namespaces/kube-system/serviceaccounts/${SA}/token`,
    {
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 3600 },
      },
    },
  );
  return tr.status.token;
}

/** The server and CA of the sandbox's (certificate-authenticated) context. */
async function clusterOf(sb: Sandbox): Promise<Record<string, unknown>> {
  // deno-lint-ignore no-explicit-any
  const doc = parse(await Deno.readTextFile(sb.kubeconfig)) as any;
  const ctx = doc.contexts.find((c: { name: string }) => c.name === doc["current-context"]);
  return doc.clusters.find((c: { name: string }) => c.name === ctx.context.cluster).cluster;
}

/** A kubeconfig in `dir` whose only user is `user`, with the sandbox cluster's server and CA. */
async function kubeconfigWith(
  dir: string,
  cluster: Record<string, unknown>,
  user: Record<string, unknown>,
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/config`;
  await Deno.writeTextFile(
    path,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster }],
      users: [{ name: "u", user }],
      contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
      "current-context": "ctx",
    }),
  );
  return path;
}

/** An exec credential plugin printing `token`; it notes each run in `<dir>/runs`. */
async function execPlugin(dir: string, token: string): Promise<void> {
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
  const expires = new Date(Date.now() + 3_600_000).toISOString();
  const credential = JSON.stringify({
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    status: { token, expirationTimestamp: expires },
  });
  await Deno.writeTextFile(
    `${dir}/bin/credential`,
    `#!/bin/sh\necho run >> "${dir}/runs"\ncat <<'EOF'\n${credential}\nEOF\n`,
    { mode: 0o755 },
  );
}

/** rollout, create configmap and teardown --apps with the given kubeconfig; each must succeed. */
async function driveTasks(
  sb: Sandbox,
  kube: Kube,
  kubeconfig: string,
  label: string,
): Promise<void> {
  const env = { KUBECONFIG: kubeconfig };
  const monitoring = `mon-${label}`;
  const up = await sb.task(
    "rollout.ts",
    [...SMALL, "--set", `monitoringNamespace=${monitoring}`, "--timeout", "2m"],
    env,
  );
  assert.equal(up.code, 0, `${label} rollout: ${up.stderr}`);
  assert.match(up.stderr, /Rollout complete: 3 created/, label);
  // the bench finds the Pushgateway where this rollout put it
  assert.deepEqual(await deployedNamespaces(kube), { monitoring });
  await Deno.writeTextFile(`${sb.dir}/app.conf`, `${label}\n`);
  const cm = await sb.task(
    "create.ts",
    ["configmap", `cm-${label}`, `--from-file=${sb.dir}/app.conf`, "--namespace", monitoring],
    env,
  );
  assert.equal(cm.code, 0, `${label} create: ${cm.stderr}`);
  const live = await kube.core.readNamespacedConfigMap({
    name: `cm-${label}`,
    namespace: monitoring,
  });
  assert.equal(live.data?.["app.conf"], `${label}\n`);
  const down = await sb.task("teardown.ts", ["--apps"], env);
  assert.equal(down.code, 0, `${label} teardown --apps: ${down.stderr}`);
  assert.match(down.stderr, /3 deleted|deleted 3|3 objects/, `${label}: ${down.stderr}`);
}

Deno.test("exec-plugin and token-file kubeconfigs drive rollout, create and teardown --apps", async (t) => {
  await withSimCluster(["--nodes", "1"], async ({ sb, kube }) => {
    const token = await serviceAccountToken(kube);
    const cluster = await clusterOf(sb);

    await t.step("an exec credential plugin (relative command path)", async () => {
      const dir = `${sb.dir}/exec`;
      await execPlugin(dir, token);
      const kubeconfig = await kubeconfigWith(dir, cluster, {
        exec: {
          apiVersion: "client.authentication.k8s.io/v1",
          command: "./bin/credential",
          interactiveMode: "Never",
        },
      });
      await driveTasks(sb, kube, kubeconfig, "exec");
      const runs = (await Deno.readTextFile(`${dir}/runs`)).trim().split("\n").length;
      // one run per task: the credential is cached until it expires
      assert.ok(runs >= 3, `the plugin ran ${runs} times`);
    });

    await t.step("a token file (relative to the kubeconfig's folder)", async () => {
      const dir = `${sb.dir}/tokenfile`;
      await Deno.mkdir(`${dir}/secrets`, { recursive: true });
      await Deno.writeTextFile(`${dir}/secrets/token`, `${token}\n`); // trailing newline, as `echo` writes
      const kubeconfig = await kubeconfigWith(dir, cluster, { tokenFile: "secrets/token" });
      await driveTasks(sb, kube, kubeconfig, "file");
    });

    await t.step("the bench finds Countly's namespace by its labels", async () => {
      await kube.rest.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "apps-x" } });
      await kube.rest.apply({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "countly", namespace: "apps-x", labels: commonLabels("countly-api") },
        stringData: { "app-key": "k" },
      } as never);
      assert.deepEqual(await deployedNamespaces(kube), { app: "apps-x" });
      await kube.rest.delete({ apiVersion: "v1", kind: "Namespace", metadata: { name: "apps-x" } });
    });

    await t.step("a refused token is one line naming the cause, for every task", async () => {
      const dir = `${sb.dir}/bad`;
      await execPlugin(dir, "not-a-valid-token");
      const kubeconfig = await kubeconfigWith(dir, cluster, {
        exec: { apiVersion: "client.authentication.k8s.io/v1", command: `${dir}/bin/credential` },
      });
      for (
        const [task, args] of [
          ["rollout.ts", SMALL],
          ["teardown.ts", ["--apps"]],
          ["create.ts", ["configmap", "x", `--from-file=${sb.dir}/app.conf`]],
        ] as const
      ) {
        const r = await sb.task(task, [...args], { KUBECONFIG: kubeconfig });
        assert.equal(r.code, 1, `${task}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        assert.match(r.stderr, /^error: Cannot use the Kubernetes API server at .*: unauthorized/);
      }
      const failing = `${sb.dir}/failing`;
      await Deno.mkdir(failing, { recursive: true });
      await Deno.writeTextFile(
        `${failing}/plugin`,
        "#!/bin/sh\necho 'token expired: run aws sso login' >&2\nexit 1\n",
        {
          mode: 0o755,
        },
      );
      const broken = await kubeconfigWith(failing, cluster, {
        exec: { apiVersion: "client.authentication.k8s.io/v1", command: `${failing}/plugin` },
      });
      const r = await sb.task("rollout.ts", SMALL, { KUBECONFIG: broken });
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^error: Cannot use the Kubernetes API server .*: Cannot get credentials for context "ctx" from the exec plugin .*plugin: token expired: run aws sso login\n$/,
      );
    });
  });
});
