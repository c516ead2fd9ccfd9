/**
 * What an AWS cluster gets beyond kubeadm, applied by `bootstrap:aws` once the API server answers
 * (server-side apply, field manager `cncfdemo-aws`; a re-run changes nothing):
 *
 * - **kubelet serving certificates signed by the cluster CA.** The kubelets ask for them
 *   (`serverTLSBootstrap: true`, lib/aws/kubeadm_config.ts) and kubelet-csr-approver approves
 *   them. Why this approver: the built-in controllers approve only client certificates; it checks
 *   what a node may claim — signer kubelet-serving, requester `system:node:<name>` = the CN, one
 *   DNS name that starts with the node's name and matches EC2's private names
 *   (`ip-a-b-c-d[.<region>.compute.internal]`), IPs inside the cluster's VPC, and the DNS name
 *   resolving to exactly those IPs (VPC DNS: EC2 names encode the address) — so a node gets a
 *   certificate for its own name and address only. Prometheus, metrics-server and the API server
 *   then verify kubelets with the cluster CA.
 * - **metrics-server** (resource metrics for autoscalers): it verifies the kubelets with the
 *   cluster CA, and the API server verifies it — its serving certificate is issued by the cluster
 *   CA and its APIService carries that CA.
 * - **The EBS CSI driver and a default StorageClass** (`ebs-gp3`, encrypted gp3, bound where the
 *   pod lands), so volume claims — MongoDB's — bind. Its controller runs on the masters, whose
 *   instance role alone may create, attach and delete volumes, and only those tagged
 *   `KubernetesCluster=<name>` (lib/aws/iam_policies.ts); no snapshots, no resizing.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { Buffer } from "node:buffer";
import { CATALOG } from "../images/catalog.ts";
import { connectKube, type Kube } from "../kube/client.ts";
import { readiness } from "../kube/readiness.ts";
import { watchUntil } from "../kube/watch.ts";
import {
  METRICS_APISERVICE,
  metricsApiCondition,
  metricsServerCert,
  metricsServerObjects,
} from "../addons/metrics_server.ts";
import { type Step, step } from "../steps.ts";
import type { Deadline } from "../wait.ts";
import { CLUSTER_TAG } from "./names.ts";

export const AWS_ADDON_FIELD_MANAGER = "cncfdemo-aws";
const MANAGED = { "app.kubernetes.io/managed-by": "cncfdemo-aws" };
const SYSTEM = "kube-system";

/** Pinned add-on images (upstream's own manifests at these versions). */
export const AWS_ADDON_IMAGES = {
  csrApprover: "ghcr.io/postfinance/kubelet-csr-approver:v1.2.14",
  metricsServer: CATALOG["metrics-server"].ref,
  ebsDriver: "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.64.0",
  csiProvisioner: "public.ecr.aws/csi-components/csi-provisioner:v6.3.0-eksbuild.4",
  csiAttacher: "public.ecr.aws/csi-components/csi-attacher:v4.12.0-eksbuild.5",
  csiRegistrar: "public.ecr.aws/csi-components/csi-node-driver-registrar:v2.17.0-eksbuild.5",
  livenessProbe: "public.ecr.aws/csi-components/livenessprobe:v2.19.0-eksbuild.5",
} as const;

/** The default StorageClass of an AWS cluster. */
export const AWS_STORAGE_CLASS = "ebs-gp3";
/** EC2's private host names: `ip-10-42-1-23`, with the region's domain or us-east-1's. */
export const EC2_NODE_NAME_REGEX =
  "^ip-(\\d{1,3}-){3}\\d{1,3}(\\.[a-z0-9-]+\\.compute\\.internal|\\.ec2\\.internal)?$";
/** The service account's view of the cluster CA, in every pod. */

export type AddonObject = KubernetesObject & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

export interface AwsAddonInput {
  clusterName: string;
  /** The VPC's CIDR: the only addresses a kubelet serving certificate may name. */
  vpcCidr: string;
  /** The cluster CA certificate (PEM): metrics-server's APIService trusts it. */
  caCert: string;
  /** metrics-server's serving certificate and key (PEM), issued by the cluster CA. */
  metricsServerTls: { cert: string; key: string };
}

const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};

const onMasters = {
  nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
  tolerations: [{
    key: "node-role.kubernetes.io/control-plane",
    operator: "Exists",
    effect: "NoSchedule",
  }],
};

function obj<T extends object>(o: T): AddonObject {
  const x = o as unknown as AddonObject;
  x.metadata.labels = { ...(x.metadata.labels ?? {}), ...MANAGED };
  return x;
}

const sa = (name: string) =>
  obj({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: SYSTEM } });

function binding(
  name: string,
  roleKind: "ClusterRole" | "Role",
  role: string,
  account: string,
  namespace?: string,
): AddonObject {
  return obj({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: namespace ? "RoleBinding" : "ClusterRoleBinding",
    metadata: { name, ...(namespace ? { namespace } : {}) },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: role },
    subjects: [{ kind: "ServiceAccount", name: account, namespace: SYSTEM }],
  });
}

function deployment(
  name: string,
  labels: Record<string, string>,
  pod: Record<string, unknown>,
  replicas = 1,
): AddonObject {
  return obj({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: SYSTEM, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: pod },
    },
  });
}

/** kubelet-csr-approver: approves kubelet-serving CSRs for a node's own name and VPC address. */
function csrApprover(i: AwsAddonInput): AddonObject[] {
  const app = { app: "kubelet-csr-approver" };
  return [
    sa("kubelet-csr-approver"),
    obj({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "kubelet-csr-approver" },
      rules: [
        {
          apiGroups: ["certificates.k8s.io"],
          resources: ["certificatesigningrequests"],
          verbs: ["get", "list", "watch"],
        },
        {
          apiGroups: ["certificates.k8s.io"],
          resources: ["certificatesigningrequests/approval"],
          verbs: ["update"],
        },
        {
          // kubelet serving certificates only
          apiGroups: ["certificates.k8s.io"],
          resources: ["signers"],
          resourceNames: ["kubernetes.io/kubelet-serving"],
          verbs: ["approve"],
        },
        {
          apiGroups: ["coordination.k8s.io"],
          resources: ["leases"],
          verbs: ["create", "get", "update"],
        },
        { apiGroups: [""], resources: ["events"], verbs: ["create"] },
      ],
    }),
    binding("kubelet-csr-approver", "ClusterRole", "kubelet-csr-approver", "kubelet-csr-approver"),
    deployment("kubelet-csr-approver", app, {
      serviceAccountName: "kubelet-csr-approver",
      priorityClassName: "system-cluster-critical",
      ...onMasters,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [{
        name: "kubelet-csr-approver",
        image: AWS_ADDON_IMAGES.csrApprover,
        imagePullPolicy: "IfNotPresent",
        args: ["-metrics-bind-address", ":8080", "-health-probe-bind-address", ":8081"],
        env: [
          { name: "PROVIDER_REGEX", value: EC2_NODE_NAME_REGEX },
          { name: "PROVIDER_IP_PREFIXES", value: i.vpcCidr },
          // a year at most (the kubelet rotates before expiry)
          { name: "MAX_EXPIRATION_SEC", value: "31622400" },
        ],
        livenessProbe: { httpGet: { path: "/healthz", port: 8081 } },
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
        securityContext: restricted,
      }],
    }),
  ];
}

/** metrics-server, verifying the kubelets and verified by the API server with the cluster CA. */
function metricsServer(i: AwsAddonInput): AddonObject[] {
  return metricsServerObjects({
    image: AWS_ADDON_IMAGES.metricsServer,
    tls: i.metricsServerTls,
    caCert: i.caCert,
  }).map(obj);
}

/** The EBS CSI driver (provisioner and attacher; no snapshots, no resizing) and its StorageClass. */
function ebsCsiDriver(i: AwsAddonInput): AddonObject[] {
  const controller = { app: "ebs-csi-controller", "app.kubernetes.io/name": "aws-ebs-csi-driver" };
  const node = { app: "ebs-csi-node", "app.kubernetes.io/name": "aws-ebs-csi-driver" };
  const socket = { name: "socket-dir", mountPath: "/var/lib/csi/sockets/pluginproxy/" };
  const sidecar = (name: string, image: string, args: string[]) => ({
    name,
    image,
    imagePullPolicy: "IfNotPresent",
    args: ["--csi-address=$(ADDRESS)", "--v=2", "--leader-election=true", ...args],
    env: [{ name: "ADDRESS", value: "/var/lib/csi/sockets/pluginproxy/csi.sock" }],
    volumeMounts: [socket],
    resources: { requests: { cpu: "10m", memory: "40Mi" }, limits: { memory: "256Mi" } },
    securityContext: restricted,
  });
  return [
    sa("ebs-csi-controller-sa"),
    sa("ebs-csi-node-sa"),
    obj({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "ebs-external-provisioner-role" },
      rules: [
        {
          apiGroups: [""],
          resources: ["persistentvolumes"],
          verbs: ["get", "list", "watch", "create", "patch", "delete"],
        },
        {
          apiGroups: [""],
          resources: ["persistentvolumeclaims"],
          verbs: ["get", "list", "watch", "update"],
        },
        {
          apiGroups: ["storage.k8s.io"],
          resources: ["storageclasses", "csinodes"],
          verbs: ["get", "list", "watch"],
        },
        {
          apiGroups: [""],
          resources: ["events"],
          verbs: ["list", "watch", "create", "update", "patch"],
        },
        { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
        {
          apiGroups: ["storage.k8s.io"],
          resources: ["volumeattachments"],
          verbs: ["get", "list", "watch"],
        },
        {
          apiGroups: ["storage.k8s.io"],
          resources: ["volumeattributesclasses"],
          verbs: ["get"],
        },
      ],
    }),
    obj({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "ebs-external-attacher-role" },
      rules: [
        {
          apiGroups: [""],
          resources: ["persistentvolumes"],
          verbs: ["get", "list", "watch", "patch"],
        },
        { apiGroups: ["storage.k8s.io"], resources: ["csinodes"], verbs: ["get", "list", "watch"] },
        {
          apiGroups: ["storage.k8s.io"],
          resources: ["volumeattachments"],
          verbs: ["get", "list", "watch", "patch"],
        },
        {
          apiGroups: ["storage.k8s.io"],
          resources: ["volumeattachments/status"],
          verbs: ["patch"],
        },
      ],
    }),
    obj({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "ebs-csi-node-role" },
      rules: [
        {
          apiGroups: ["storage.k8s.io"],
          resources: ["volumeattachments"],
          verbs: ["get", "list", "watch"],
        },
        { apiGroups: [""], resources: ["nodes"], verbs: ["get", "patch", "list", "watch"] },
        { apiGroups: ["storage.k8s.io"], resources: ["csinodes"], verbs: ["get"] },
      ],
    }),
    obj({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "ebs-csi-leases-role", namespace: SYSTEM },
      rules: [{
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        verbs: ["get", "watch", "list", "delete", "update", "create"],
      }],
    }),
    binding(
      "ebs-csi-provisioner-binding",
      "ClusterRole",
      "ebs-external-provisioner-role",
      "ebs-csi-controller-sa",
    ),
    binding(
      "ebs-csi-attacher-binding",
      "ClusterRole",
      "ebs-external-attacher-role",
      "ebs-csi-controller-sa",
    ),
    binding("ebs-csi-node-getter-binding", "ClusterRole", "ebs-csi-node-role", "ebs-csi-node-sa"),
    binding(
      "ebs-csi-leases-rolebinding",
      "Role",
      "ebs-csi-leases-role",
      "ebs-csi-controller-sa",
      SYSTEM,
    ),
    obj({
      apiVersion: "storage.k8s.io/v1",
      kind: "CSIDriver",
      metadata: { name: "ebs.csi.aws.com" },
      spec: { attachRequired: true, podInfoOnMount: false, fsGroupPolicy: "File" },
    }),
    // The controller on the masters: their instance role alone may create, attach and delete
    // volumes (through the instance metadata service, hop limit 2), each tagged with the cluster.
    deployment("ebs-csi-controller", controller, {
      serviceAccountName: "ebs-csi-controller-sa",
      priorityClassName: "system-cluster-critical",
      ...onMasters,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        fsGroup: 1000,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "ebs-plugin",
          image: AWS_ADDON_IMAGES.ebsDriver,
          imagePullPolicy: "IfNotPresent",
          args: [
            "controller",
            "--endpoint=$(CSI_ENDPOINT)",
            "--batching=true",
            "--logging-format=text",
            `--extra-tags=${CLUSTER_TAG}=${i.clusterName}`,
            "--v=2",
          ],
          env: [
            { name: "CSI_ENDPOINT", value: "unix:///var/lib/csi/sockets/pluginproxy/csi.sock" },
            { name: "CSI_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          ],
          volumeMounts: [socket],
          ports: [{ name: "healthz", containerPort: 9808, protocol: "TCP" }],
          livenessProbe: {
            httpGet: { path: "/healthz", port: "healthz" },
            initialDelaySeconds: 10,
            timeoutSeconds: 60,
            periodSeconds: 10,
            failureThreshold: 10,
          },
          readinessProbe: {
            httpGet: { path: "/healthz", port: "healthz" },
            initialDelaySeconds: 10,
            timeoutSeconds: 60,
            periodSeconds: 10,
            failureThreshold: 5,
          },
          resources: { requests: { cpu: "10m", memory: "40Mi" }, limits: { memory: "256Mi" } },
          securityContext: restricted,
        },
        sidecar("csi-provisioner", AWS_ADDON_IMAGES.csiProvisioner, [
          "--timeout=60s",
          "--feature-gates=Topology=true",
          "--extra-create-metadata",
          "--default-fstype=ext4",
        ]),
        sidecar("csi-attacher", AWS_ADDON_IMAGES.csiAttacher, ["--timeout=6m"]),
        {
          name: "liveness-probe",
          image: AWS_ADDON_IMAGES.livenessProbe,
          imagePullPolicy: "IfNotPresent",
          args: ["--csi-address=/csi/csi.sock", "--probe-timeout=60s"],
          volumeMounts: [{ name: "socket-dir", mountPath: "/csi" }],
          resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "32Mi" } },
          securityContext: restricted,
        },
      ],
      volumes: [{ name: "socket-dir", emptyDir: {} }],
    }),
    // The node plugin mounts volumes: privileged, as upstream (block devices, mount propagation).
    obj({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "ebs-csi-node", namespace: SYSTEM, labels: node },
      spec: {
        selector: { matchLabels: node },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } },
        template: {
          metadata: { labels: node },
          spec: {
            serviceAccountName: "ebs-csi-node-sa",
            priorityClassName: "system-node-critical",
            nodeSelector: { "kubernetes.io/os": "linux" },
            tolerations: [{ operator: "Exists" }],
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: "ebs-plugin",
                image: AWS_ADDON_IMAGES.ebsDriver,
                imagePullPolicy: "IfNotPresent",
                args: [
                  "node",
                  "--endpoint=$(CSI_ENDPOINT)",
                  "--csi-mount-point-prefix=/var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/",
                  "--logging-format=text",
                  "--v=2",
                ],
                env: [
                  { name: "CSI_ENDPOINT", value: "unix:/csi/csi.sock" },
                  {
                    name: "CSI_NODE_NAME",
                    valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } },
                  },
                ],
                volumeMounts: [
                  {
                    name: "kubelet-dir",
                    mountPath: "/var/lib/kubelet",
                    mountPropagation: "Bidirectional",
                  },
                  { name: "plugin-dir", mountPath: "/csi" },
                  { name: "device-dir", mountPath: "/dev" },
                ],
                ports: [{ name: "healthz", containerPort: 9808, protocol: "TCP" }],
                livenessProbe: {
                  httpGet: { path: "/healthz", port: "healthz" },
                  initialDelaySeconds: 10,
                  timeoutSeconds: 3,
                  periodSeconds: 10,
                  failureThreshold: 5,
                },
                readinessProbe: {
                  httpGet: { path: "/healthz", port: "healthz" },
                  timeoutSeconds: 3,
                  periodSeconds: 5,
                  failureThreshold: 3,
                },
                resources: {
                  requests: { cpu: "10m", memory: "40Mi" },
                  limits: { memory: "256Mi" },
                },
                securityContext: { privileged: true, readOnlyRootFilesystem: true },
                lifecycle: {
                  preStop: { exec: { command: ["/bin/aws-ebs-csi-driver", "pre-stop-hook"] } },
                },
              },
              {
                name: "node-driver-registrar",
                image: AWS_ADDON_IMAGES.csiRegistrar,
                imagePullPolicy: "IfNotPresent",
                args: [
                  "--csi-address=$(ADDRESS)",
                  "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)",
                  "--v=2",
                ],
                env: [
                  { name: "ADDRESS", value: "/csi/csi.sock" },
                  {
                    name: "DRIVER_REG_SOCK_PATH",
                    value: "/var/lib/kubelet/plugins/ebs.csi.aws.com/csi.sock",
                  },
                ],
                volumeMounts: [
                  { name: "plugin-dir", mountPath: "/csi" },
                  { name: "registration-dir", mountPath: "/registration" },
                ],
                resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "32Mi" } },
                securityContext: restricted,
              },
              {
                name: "liveness-probe",
                image: AWS_ADDON_IMAGES.livenessProbe,
                imagePullPolicy: "IfNotPresent",
                args: ["--csi-address=/csi/csi.sock"],
                volumeMounts: [{ name: "plugin-dir", mountPath: "/csi" }],
                resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "32Mi" } },
                securityContext: restricted,
              },
            ],
            volumes: [
              { name: "kubelet-dir", hostPath: { path: "/var/lib/kubelet", type: "Directory" } },
              {
                name: "plugin-dir",
                hostPath: {
                  path: "/var/lib/kubelet/plugins/ebs.csi.aws.com/",
                  type: "DirectoryOrCreate",
                },
              },
              {
                name: "registration-dir",
                hostPath: { path: "/var/lib/kubelet/plugins_registry/", type: "Directory" },
              },
              { name: "device-dir", hostPath: { path: "/dev", type: "Directory" } },
            ],
          },
        },
      },
    }),
    obj({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: {
        name: AWS_STORAGE_CLASS,
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      },
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
      // the volume is made in the zone of the node the pod lands on
      volumeBindingMode: "WaitForFirstConsumer",
      reclaimPolicy: "Delete",
      allowVolumeExpansion: false,
    }),
  ];
}

/** Every add-on object, in apply order (RBAC and config before workloads). */
export function awsAddonObjects(i: AwsAddonInput): AddonObject[] {
  return [...csrApprover(i), ...metricsServer(i), ...ebsCsiDriver(i)];
}

/** The workloads and API the add-on step waits for. */
export const AWS_ADDON_WORKLOADS: readonly { kind: string; name: string }[] = [
  { kind: "Deployment", name: "kubelet-csr-approver" },
  { kind: "Deployment", name: "metrics-server" },
  { kind: "Deployment", name: "ebs-csi-controller" },
  { kind: "DaemonSet", name: "ebs-csi-node" },
];

/** What is not ready yet among the add-ons (empty: all ready), for progress and the deadline. */
export function addonsNotReady(
  workloads: readonly KubernetesObject[],
  apiService: KubernetesObject | undefined,
): string[] {
  const out: string[] = [];
  for (const w of AWS_ADDON_WORKLOADS) {
    const live = workloads.find((o) => o.kind === w.kind && o.metadata?.name === w.name);
    if (!live) out.push(`${w.kind} ${SYSTEM}/${w.name} (not created yet)`);
    else {
      const r = readiness(live);
      if (!r.ready) out.push(`${w.kind} ${SYSTEM}/${w.name} (${r.status})`);
    }
  }
  const available = metricsApiCondition(apiService);
  if (available?.status !== "True") {
    out.push(
      `APIService ${METRICS_APISERVICE} (${
        available ? `${available.reason}: ${available.message ?? ""}`.trim() : "not Available yet"
      })`,
    );
  }
  return out;
}

export interface AwsAddonStepsOptions {
  kubeconfig: string;
  context: string;
  clusterName: string;
  vpcCidr: string;
  /** The cluster CA (certificate and key, PEM), known once the CA step ran. */
  ca: () => { cert: string; key: string };
  /** The task's deadline, shared with its other waits. */
  deadline: Deadline;
}

/** Apply the add-ons, then wait until they run and the metrics API answers. */
export function awsAddonSteps(o: AwsAddonStepsOptions): Step[] {
  let kube: Kube | undefined;
  const connect =
    async () => (kube ??= await connectKube({ kubeconfig: o.kubeconfig, context: o.context }));
  return [
    step("Apply the cluster add-ons", async (ctx) => {
      const k = await connect();
      ctx.progress("metrics-server's serving certificate");
      // deno-lint-ignore no-explicit-any
      const secret = await k.rest.get<any>({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "metrics-server-tls", namespace: SYSTEM },
      });
      const existing = secret?.data?.["tls.crt"] && secret?.data?.["tls.key"]
        ? {
          cert: Buffer.from(secret.data["tls.crt"], "base64").toString(),
          key: Buffer.from(secret.data["tls.key"], "base64").toString(),
        }
        : undefined;
      const tls = await metricsServerCert(o.ca(), existing);
      const objects = awsAddonObjects({
        clusterName: o.clusterName,
        vpcCidr: o.vpcCidr,
        caCert: o.ca().cert,
        metricsServerTls: tls,
      });
      const tally = { created: 0, configured: 0, unchanged: 0 };
      for (const x of objects) {
        ctx.progress(`${x.kind} ${x.metadata.name}`);
        const before = await k.rest.get(x);
        const after = await k.rest.apply(x, { fieldManager: AWS_ADDON_FIELD_MANAGER, force: true });
        if (!before) tally.created++;
        else if (before.metadata?.resourceVersion === after.metadata?.resourceVersion) {
          tally.unchanged++;
        } else tally.configured++;
      }
      return `${tally.created} created, ${tally.configured} configured, ${tally.unchanged} unchanged${
        tls.issued ? "; metrics-server's certificate issued by the cluster CA" : ""
      }`;
    }),
    step("Wait for the add-ons and the metrics API", async (ctx) => {
      const k = await connect();
      let workloads: KubernetesObject[] = [];
      let apiService: KubernetesObject | undefined;
      const selector = "app.kubernetes.io/managed-by=cncfdemo-aws";
      const left = () => addonsNotReady(workloads, apiService);
      const stop = new AbortController();
      const watch = <T extends KubernetesObject>(
        apiVersion: string,
        kind: string,
        update: (xs: T[]) => void,
        extra: { namespace?: string; labelSelector?: string; fieldSelector?: string },
      ) =>
        watchUntil<T>(k, { apiVersion, kind, ...extra }, (xs) => {
          update(xs);
          return left().length === 0;
        }, {
          timeoutMs: o.deadline.left(),
          signal: stop.signal,
          describe: () =>
            `The cluster add-ons are not ready ${o.deadline.within}: ${left().join(", ")}`,
          onChange: () => ctx.progress(left()[0] ?? "ready"),
        });
      let deployments: KubernetesObject[] = [];
      let daemonsets: KubernetesObject[] = [];
      const set = () => (workloads = [...deployments, ...daemonsets]);
      try {
        await Promise.any([
          watch("apps/v1", "Deployment", (xs) => {
            deployments = xs.map((x) => ({ ...x, kind: "Deployment" }));
            set();
          }, { namespace: SYSTEM, labelSelector: selector }),
          watch("apps/v1", "DaemonSet", (xs) => {
            daemonsets = xs.map((x) => ({ ...x, kind: "DaemonSet" }));
            set();
          }, { namespace: SYSTEM, labelSelector: selector }),
          watch("apiregistration.k8s.io/v1", "APIService", (xs) => {
            apiService = xs[0];
          }, { fieldSelector: `metadata.name=${METRICS_APISERVICE}` }),
        ]);
      } catch (err) {
        throw err instanceof AggregateError ? err.errors[0] : err;
      } finally {
        stop.abort();
      }
      return `kubelet-csr-approver, metrics-server (${METRICS_APISERVICE} Available: kubelets verified), EBS CSI driver; default StorageClass ${AWS_STORAGE_CLASS}`;
    }),
  ];
}
