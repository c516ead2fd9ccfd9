/**
 * The local node's generated configuration, checked as data: what depends on the host's facts
 * (cgroup version, CAP_SYS_RESOURCE) and on the images mode, what keeps every listener on loopback
 * or the bridge, and what keeps pods' packets on the machine. The real node itself is tested in
 * tests/bootstrap_local_test.ts.
 */
import assert from "node:assert/strict";
import type { KubernetesObject } from "@kubernetes/client-node";
import { parse } from "yaml";
import { addonPodProblem } from "./addons.ts";
import { cniConfig, containerdConfig } from "./container_runtime.ts";
import type { LocalContext } from "./context.ts";
import { apiServerArgs, etcdArgs } from "./control_plane.ts";
import { localLayout, localNetwork } from "./layout.ts";
import { guardRuleset } from "./network.ts";
import { kubeletConfig, kubeProxyConfig } from "./node.ts";
import { Deadline } from "../../wait.ts";

function context(
  o: { cgroupV2?: boolean; capSysResource?: boolean; images?: "offline" | "pull" } = {},
): LocalContext {
  const bin = (n: string) => `/cache/bin/x/${n}`;
  const old = Deno.env.get("CNCFDEMO_STATE_DIR");
  Deno.env.set("CNCFDEMO_STATE_DIR", "/state");
  const layout = localLayout("demo");
  if (old === undefined) Deno.env.delete("CNCFDEMO_STATE_DIR");
  else Deno.env.set("CNCFDEMO_STATE_DIR", old);
  return {
    options: {
      name: "demo",
      podCidr: "10.244.0.0/16",
      serviceCidr: "10.96.0.0/16",
      apiPort: 6443,
      timeoutMs: 60_000,
    },
    layout,
    net: localNetwork("10.244.0.0/16", "10.96.0.0/16", 6443),
    deadline: new Deadline(0),
    kubeconfig: "/k",
    images: o.images ?? "offline",
    facts: {
      cgroupV2: o.cgroupV2 ?? false,
      capSysResource: o.capSysResource ?? true,
      cgroupHierarchies: [],
    },
    bins: new Proxy({}, { get: (_, n) => bin(String(n)) }) as LocalContext["bins"],
  };
}

Deno.test("addresses: the node takes the first pod address, DNS the tenth service address", () => {
  const n = localNetwork("10.244.0.0/16", "10.96.0.0/16", 6443);
  assert.equal(n.nodeIp, "10.244.0.1");
  assert.equal(n.apiServiceIp, "10.96.0.1");
  assert.equal(n.dnsIp, "10.96.0.10");
});

Deno.test("kubelet: cgroup v1 and a root without CAP_SYS_RESOURCE are handled; listeners stay local", () => {
  // deno-lint-ignore no-explicit-any
  const v1 = parse(kubeletConfig(context({ capSysResource: false }))) as any;
  assert.equal(v1.failCgroupV1, false);
  assert.equal(v1.oomScoreAdj, 0);
  assert.equal(v1.address, "10.244.0.1");
  assert.equal(v1.healthzBindAddress, "127.0.0.1");
  assert.equal(v1.readOnlyPort, 0);
  assert.equal(v1.authentication.anonymous.enabled, false);
  assert.equal(v1.authorization.mode, "Webhook");
  assert.match(v1.tlsCertFile, /kubelet-serving\.crt$/);
  assert.equal(v1.resolvConf, "");
  assert.equal(v1.cgroupRoot, "/cncfdemo-demo");
  // deno-lint-ignore no-explicit-any
  const v2 = parse(kubeletConfig(context({ cgroupV2: true }))) as any;
  assert.equal(v2.failCgroupV1, undefined);
  assert.equal(v2.oomScoreAdj, undefined);
});

Deno.test("kube-proxy: nftables, NodePorts on the node's address only, host sysctls left alone", () => {
  // deno-lint-ignore no-explicit-any
  const c = parse(kubeProxyConfig(context({ capSysResource: false }), "/k")) as any;
  assert.equal(c.mode, "nftables");
  assert.deepEqual(c.nodePortAddresses, ["10.244.0.1/32"]);
  assert.match(c.metricsBindAddress, /^127\.0\.0\.1:/);
  assert.match(c.healthzBindAddress, /^127\.0\.0\.1:/);
  assert.equal(c.conntrack.maxPerCore, 0);
  assert.equal(c.oomScoreAdj, 0);
});

Deno.test("containerd: offline nodes pull from a closed loopback port; oom_score_adj clamped without the capability", () => {
  const offline = containerdConfig(context({ capSysResource: false }));
  assert.match(offline, /restrict_oom_score_adj = true/);
  assert.match(offline, /config_path = '\/state\/local\/demo\/containerd\/certs\.d'/);
  assert.match(offline, /netns_mounts_under_state_dir = true/);
  assert.match(offline, /'io\.containerd\.nri\.v1\.nri'/);
  assert.match(offline, /stream_server_address = '127\.0\.0\.1'/);
  assert.match(offline, /sandbox = 'registry\.k8s\.io\/pause:3\.10\.1'/);
  const pull = containerdConfig(context({ images: "pull" }));
  assert.match(pull, /restrict_oom_score_adj = false/);
  assert.doesNotMatch(pull, /config_path/);
  // every path containerd keeps is under the state directory
  for (const m of offline.matchAll(/^\s*(?:root|state|address|path|bin_dir|Root) = '([^']+)'/gm)) {
    assert.ok(m[1]!.startsWith("/state/local/demo/"), m[0]);
  }
});

Deno.test("CNI: the bridge plugin on the node's bridge, no NAT out, IPAM under the state directory", () => {
  const c = JSON.parse(cniConfig(context()));
  const bridge = c.plugins[0];
  assert.equal(bridge.bridge, "cncfdemo0");
  assert.equal(bridge.ipMasq, false);
  assert.equal(bridge.ipam.dataDir, "/state/local/demo/cni/ipam");
  assert.deepEqual(bridge.ipam.ranges, [[{ subnet: "10.244.0.0/16", gateway: "10.244.0.1" }]]);
});

Deno.test("control plane: etcd on loopback with client certificates; the API server verifies the kubelet", () => {
  const ctx = context();
  const etcd = etcdArgs(ctx);
  for (const a of etcd.filter((a) => a.includes("urls="))) {
    assert.match(a, /=(https?:\/\/127\.0\.0\.1:\d+|\S+=https:\/\/127\.0\.0\.1:\d+)$/, a);
  }
  assert.ok(etcd.includes("--client-cert-auth=true"));
  const api = apiServerArgs(ctx);
  assert.ok(api.includes("--bind-address=10.244.0.1"));
  assert.ok(api.some((a) => a.startsWith("--kubelet-certificate-authority=")));
  assert.ok(api.includes("--kubelet-preferred-address-types=InternalIP,Hostname"));
  assert.ok(!api.some((a) => /insecure/i.test(a)), "no insecure flag");
});

Deno.test("guard: pods reach the pod and service CIDRs and the node only; nothing else, counted", () => {
  const r = guardRuleset(localNetwork("10.244.0.0/16", "10.96.0.0/16", 6443));
  assert.match(
    r,
    /iifname "cncfdemo0" ip daddr != \{ 10\.244\.0\.0\/16, 10\.96\.0\.0\/16 \} counter drop/,
  );
  assert.match(r, /iifname "cncfdemo0" ip daddr != 10\.244\.0\.1 counter drop/);
  assert.match(r, /iifname "cncfdemo0" meta nfproto ipv6 counter drop/);
  // replaced whole on every run
  assert.match(r, /^table inet cncfdemo-guard\ndelete table inet cncfdemo-guard\n/);
});

Deno.test("add-ons: a crash loop and an image that cannot be had are named in one line", () => {
  const pod = (status: object): KubernetesObject =>
    ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "metrics-server-1", namespace: "kube-system" },
      spec: { containers: [{ name: "metrics-server", image: "registry.k8s.io/ms:v1" }] },
      status,
    }) as KubernetesObject;
  assert.equal(
    addonPodProblem([pod({
      containerStatuses: [{
        name: "metrics-server",
        state: { waiting: { reason: "CrashLoopBackOff" } },
        lastState: { terminated: { exitCode: 2, message: "starting\npanic: bad flag\n" } },
      }],
    })]),
    "Add-on pod kube-system/metrics-server-1 is crash-looping (container metrics-server: panic: bad flag)",
  );
  assert.match(
    addonPodProblem([pod({
      containerStatuses: [{
        name: "metrics-server",
        state: { waiting: { reason: "ErrImagePull", message: "connection refused" } },
      }],
    })])!,
    /^Add-on pod kube-system\/metrics-server-1 cannot get its image registry\.k8s\.io\/ms:v1 \(ErrImagePull\)/,
  );
  assert.equal(
    addonPodProblem([pod({
      containerStatuses: [{ name: "metrics-server", state: { running: {} } }],
    })]),
    undefined,
  );
});
