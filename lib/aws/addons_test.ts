// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import { certInfo, isIssuedBy, makeCa } from "../pki.ts";
import {
  addonsNotReady,
  AWS_ADDON_IMAGES,
  AWS_STORAGE_CLASS,
  awsAddonObjects,
  EC2_NODE_NAME_REGEX,
} from "./addons.ts";
import { METRICS_SERVER_NAMES, metricsServerCert } from "../addons/metrics_server.ts";
import { clusterNames } from "./names.ts";
import { makeCa as makeClusterCa } from "./pki.ts";

async function objects() {
  const ca = await makeClusterCa();
  const tls = await metricsServerCert(ca, undefined);
  const objs = awsAddonObjects({
    clusterName: "demo",
    vpcCidr: clusterNames("demo", "eu-west-1").vpcCidr,
    caCert: ca.cert,
    metricsServerTls: tls,
  });
  const get = (kind: string, name: string) =>
    objs.find((o) => o.kind === kind && o.metadata.name === name) as any;
  return { ca, tls, objs, get };
}

const env = (c: any, name: string) => c.env.find((e: any) => e.name === name)?.value;

Deno.test("AWS add-ons: kubelet serving CSRs approved for EC2 node names and VPC addresses only", async () => {
  const { get } = await objects();
  const d = get("Deployment", "kubelet-csr-approver");
  const c = d.spec.template.spec.containers[0];
  assert.equal(c.image, AWS_ADDON_IMAGES.csrApprover);
  assert.equal(env(c, "PROVIDER_IP_PREFIXES"), "10.42.0.0/16");
  assert.equal(env(c, "PROVIDER_REGEX"), EC2_NODE_NAME_REGEX);
  // the DNS check stays on: a node's name must resolve to the addresses it asks for
  assert.equal(env(c, "BYPASS_DNS_RESOLUTION"), undefined);
  const re = new RegExp(EC2_NODE_NAME_REGEX);
  for (
    const ok of [
      "ip-10-42-1-23",
      "ip-10-42-1-23.eu-west-1.compute.internal",
      "ip-10-42-0-5.ec2.internal",
    ]
  ) {
    assert.ok(re.test(ok), ok);
  }
  for (const bad of ["kubernetes", "ip-10-42-1-23.example.com", "auth.company.ch", "ip-10-42-1"]) {
    assert.ok(!re.test(bad), bad);
  }
  // it may approve kubelet-serving CSRs, and only those
  const role = get("ClusterRole", "kubelet-csr-approver");
  const approve = role.rules.find((r: any) => r.verbs.includes("approve"));
  assert.deepEqual(approve.resourceNames, ["kubernetes.io/kubelet-serving"]);
});

Deno.test("AWS add-ons: metrics-server verifies the kubelets and is verified by the API server", async () => {
  const { ca, tls, get, objs } = await objects();
  const args: string[] = get("Deployment", "metrics-server").spec.template.spec.containers[0].args;
  assert.ok(args.includes(
    "--kubelet-certificate-authority=/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
  ));
  assert.ok(!args.some((a) => a.includes("insecure")));
  const api = get("APIService", "v1beta1.metrics.k8s.io");
  assert.equal(api.spec.insecureSkipTLSVerify, false);
  assert.equal(atob(api.spec.caBundle), ca.cert);
  assert.ok(await isIssuedBy(tls.cert, ca.cert));
  assert.deepEqual(certInfo(tls.cert).dnsNames, METRICS_SERVER_NAMES);
  assert.ok(!JSON.stringify(objs).includes('insecureSkipTLSVerify":true'));
});

Deno.test("AWS add-ons: metrics-server's certificate is kept while valid, reissued otherwise", async () => {
  const ca = await makeClusterCa();
  const first = await metricsServerCert(ca, undefined);
  assert.equal(first.issued, true);
  const again = await metricsServerCert(ca, first);
  assert.deepEqual(again, { ...first, issued: false });
  // another CA's, or about to expire: a new one
  const other = await makeCa("other");
  const foreign = await metricsServerCert(other, undefined);
  assert.equal((await metricsServerCert(ca, foreign)).issued, true);
  const later = new Date(Date.now() + 340 * 86_400_000);
  assert.equal((await metricsServerCert(ca, first, later)).issued, true);
});

Deno.test("AWS add-ons: the EBS CSI driver on the masters, tagging volumes with the cluster; the default StorageClass", async () => {
  const { get, objs } = await objects();
  const ctl = get("Deployment", "ebs-csi-controller").spec.template.spec;
  assert.deepEqual(ctl.nodeSelector, { "node-role.kubernetes.io/control-plane": "" });
  assert.ok(ctl.containers[0].args.includes("--extra-tags=KubernetesCluster=demo"));
  assert.deepEqual(ctl.containers.map((c: any) => c.name), [
    "ebs-plugin",
    "csi-provisioner",
    "csi-attacher",
    "liveness-probe",
  ]);
  assert.equal(get("CSIDriver", "ebs.csi.aws.com").spec.attachRequired, true);
  const ds = get("DaemonSet", "ebs-csi-node");
  assert.deepEqual(ds.spec.template.spec.tolerations, [{ operator: "Exists" }]);
  const sc = get("StorageClass", AWS_STORAGE_CLASS);
  assert.equal(sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"], "true");
  assert.equal(sc.provisioner, "ebs.csi.aws.com");
  assert.deepEqual(sc.parameters, {
    type: "gp3",
    encrypted: "true",
    "csi.storage.k8s.io/fstype": "ext4",
  });
  assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
  assert.equal(objs.filter((o) => o.kind === "StorageClass").length, 1);
  // every object says who manages it
  for (const o of objs) {
    assert.equal(
      o.metadata.labels?.["app.kubernetes.io/managed-by"],
      "cncfdemo-aws",
      o.metadata.name,
    );
  }
  // images are pinned
  for (const image of Object.values(AWS_ADDON_IMAGES)) assert.match(image, /:v\d+\.\d+\.\d+/);
});

Deno.test("addonsNotReady names what is not ready, the metrics API's condition included", () => {
  const ready = (kind: string, name: string) => ({
    kind,
    metadata: { name, generation: 1 },
    spec: { replicas: 1 },
    status: {
      observedGeneration: 1,
      availableReplicas: 1,
      updatedReplicas: 1,
      replicas: 1,
      desiredNumberScheduled: 2,
      numberReady: 2,
      updatedNumberScheduled: 2,
      numberAvailable: 2,
    },
  });
  const all = [
    ready("Deployment", "kubelet-csr-approver"),
    ready("Deployment", "metrics-server"),
    ready("Deployment", "ebs-csi-controller"),
    ready("DaemonSet", "ebs-csi-node"),
  ];
  const available = {
    metadata: { name: "v1beta1.metrics.k8s.io" },
    status: { conditions: [{ type: "Available", status: "True" }] },
  };
  assert.deepEqual(addonsNotReady(all, available), []);
  assert.deepEqual(
    addonsNotReady(all.slice(1), {
      metadata: { name: "v1beta1.metrics.k8s.io" },
      status: {
        conditions: [{
          type: "Available",
          status: "False",
          reason: "FailedDiscoveryCheck",
          message: "failing or missing response from https://10.96.0.12:443",
        }],
      },
    } as any),
    [
      "Deployment kube-system/kubelet-csr-approver (not created yet)",
      "APIService v1beta1.metrics.k8s.io (FailedDiscoveryCheck: failing or missing response from https://10.96.0.12:443)",
    ],
  );
});
