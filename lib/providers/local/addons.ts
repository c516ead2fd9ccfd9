/**
 * Action "add-ons": what makes a bare node a usable cluster, as kind ships it — CoreDNS (the
 * cluster's DNS at the tenth address of the service CIDR), metrics-server (resource metrics for
 * `kubectl top` and autoscaling; it verifies the kubelet with the cluster CA, and the API server
 * verifies it through the APIService's caBundle), and local-path-provisioner with the default
 * StorageClass (node-local volumes, so claims bind). Applied server-side with strict validation,
 * then waited for; a re-run changes nothing.
 */
import type { KubernetesObject, V1Pod } from "@kubernetes/client-node";
import { metricsServerObjects, waitForMetricsApi } from "../../addons/metrics_server.ts";
import { CATALOG } from "../../images/catalog.ts";
import type { Kube } from "../../kube/client.ts";
import { imagePullProblems, readiness } from "../../kube/readiness.ts";
import { watchUntil } from "../../kube/watch.ts";
import { pki } from "./control_plane.ts";
import type { ImagesMode, LocalContext } from "./context.ts";
import { timeLeft } from "./context.ts";

export const ADDON_FIELD_MANAGER = "cncfdemo-local";
const LABELS = { "app.kubernetes.io/managed-by": "cncfdemo-local" };
/** The add-ons' pods carry this label (their templates get it). */
const ADDON_POD_SELECTOR = "cncfdemo.io/addon=true";
const SYSTEM = "kube-system";
const STORAGE_NS = "local-path-storage";

/** The add-ons' Deployments, each in its namespace. */
export type AddonName = "coredns" | "metrics-server" | "local-path-provisioner";
const ADDON_NAMESPACE: Record<AddonName, string> = {
  "coredns": SYSTEM,
  "metrics-server": SYSTEM,
  "local-path-provisioner": STORAGE_NS,
};

type Obj = KubernetesObject & { apiVersion: string; kind: string; metadata: { name: string } };

/** An add-on's Deployment: one replica (addonObjects marks its pods). */
function deployment(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  pod: Record<string, unknown>,
): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: pod },
    },
  } as Obj;
}

const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};

function coredns(ctx: LocalContext, images: ImagesMode): Obj[] {
  // Offline, there is no upstream resolver: names outside the cluster are not forwarded.
  const forward = images === "pull" ? "    forward . /etc/resolv.conf\n" : "";
  const corefile = `.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
${forward}    cache 30
    loadbalance
}
`;
  const app = { "k8s-app": "kube-dns" };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "coredns", namespace: SYSTEM } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:coredns" },
      rules: [
        {
          apiGroups: [""],
          resources: ["services", "pods", "namespaces"],
          verbs: ["list", "watch"],
        },
        {
          apiGroups: ["discovery.k8s.io"],
          resources: ["endpointslices"],
          verbs: ["list", "watch"],
        },
      ],
    } as Obj,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "system:coredns" },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "system:coredns",
      },
      subjects: [{ kind: "ServiceAccount", name: "coredns", namespace: SYSTEM }],
    } as Obj,
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "coredns", namespace: SYSTEM },
      data: { Corefile: corefile },
    } as Obj,
    deployment("coredns", SYSTEM, app, {
      serviceAccountName: "coredns",
      priorityClassName: "system-cluster-critical",
      dnsPolicy: "Default",
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [{
        name: "coredns",
        image: CATALOG.coredns.ref,
        imagePullPolicy: "IfNotPresent",
        args: ["-conf", "/etc/coredns/Corefile"],
        ports: [
          { name: "dns", containerPort: 53, protocol: "UDP" },
          { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
          { name: "metrics", containerPort: 9153, protocol: "TCP" },
        ],
        resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { memory: "128Mi" } },
        livenessProbe: {
          httpGet: { path: "/health", port: 8080 },
          initialDelaySeconds: 10,
          periodSeconds: 10,
        },
        readinessProbe: { httpGet: { path: "/ready", port: 8181 }, periodSeconds: 2 },
        securityContext: {
          ...restricted,
          capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
        },
        volumeMounts: [{ name: "config", mountPath: "/etc/coredns", readOnly: true }],
      }],
      volumes: [{ name: "config", configMap: { name: "coredns" } }],
    }),
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kube-dns", namespace: SYSTEM, labels: app },
      spec: {
        clusterIP: ctx.net.dnsIp,
        selector: app,
        ports: [
          { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
          { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
          { name: "metrics", port: 9153, protocol: "TCP", targetPort: 9153 },
        ],
      },
    } as Obj,
  ];
}

async function metricsServer(ctx: LocalContext): Promise<Obj[]> {
  const read = (file: string) => Deno.readTextFile(pki(ctx, file));
  return metricsServerObjects({
    image: CATALOG["metrics-server"].ref,
    tls: { cert: await read("metrics-server.crt"), key: await read("metrics-server.key") },
    caCert: await read("ca.crt"),
    // The shortest it allows: its API is ready after two scrapes, and bootstrap waits for that.
    resolutionSeconds: 10,
  });
}

function localPath(ctx: LocalContext): Obj[] {
  const app = { app: "local-path-provisioner" };
  const sa = "local-path-provisioner";
  const config = {
    nodePathMap: [{
      node: "DEFAULT_PATH_FOR_NON_LISTED_NODES",
      paths: [`${ctx.layout.dir}/volumes`],
    }],
  };
  const helperPod = `apiVersion: v1
kind: Pod
metadata:
  name: helper-pod
spec:
  priorityClassName: system-node-critical
  tolerations:
    - {key: node.kubernetes.io/disk-pressure, operator: Exists, effect: NoSchedule}
  containers:
    - name: helper-pod
      image: ${CATALOG.tools.ref}
      imagePullPolicy: IfNotPresent
`;
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: STORAGE_NS } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa, namespace: STORAGE_NS } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: sa, namespace: STORAGE_NS },
      rules: [{
        apiGroups: [""],
        resources: ["pods"],
        verbs: ["get", "list", "watch", "create", "patch", "update", "delete"],
      }],
    } as Obj,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: sa, namespace: STORAGE_NS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: sa },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace: STORAGE_NS }],
    } as Obj,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "cncfdemo:local-path-provisioner" },
      rules: [
        {
          apiGroups: [""],
          resources: ["nodes", "persistentvolumeclaims", "configmaps", "pods", "pods/log"],
          verbs: ["get", "list", "watch"],
        },
        {
          apiGroups: [""],
          resources: ["persistentvolumes"],
          verbs: ["get", "list", "watch", "create", "patch", "update", "delete"],
        },
        { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
        {
          apiGroups: ["storage.k8s.io"],
          resources: ["storageclasses"],
          verbs: ["get", "list", "watch"],
        },
      ],
    } as Obj,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "cncfdemo:local-path-provisioner" },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "cncfdemo:local-path-provisioner",
      },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace: STORAGE_NS }],
    } as Obj,
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "local-path-config", namespace: STORAGE_NS },
      data: {
        "config.json": JSON.stringify(config, null, 2),
        setup: 'set -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: 'set -eu\nrm -rf "$VOL_DIR"\n',
        "helperPod.yaml": helperPod,
      },
    } as Obj,
    deployment("local-path-provisioner", STORAGE_NS, app, {
      serviceAccountName: sa,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65534,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [{
        name: "local-path-provisioner",
        image: CATALOG["local-path-provisioner"].ref,
        imagePullPolicy: "IfNotPresent",
        command: [
          "local-path-provisioner",
          "start",
          "--config=/etc/config/config.json",
          `--service-account-name=${sa}`,
          `--helper-image=${CATALOG.tools.ref}`,
        ],
        env: [
          {
            name: "POD_NAMESPACE",
            valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } },
          },
          { name: "CONFIG_MOUNT_PATH", value: "/etc/config/" },
        ],
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
        securityContext: restricted,
        volumeMounts: [{ name: "config", mountPath: "/etc/config/", readOnly: true }],
      }],
      volumes: [{ name: "config", configMap: { name: "local-path-config" } }],
    }),
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: {
        name: "local-path",
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      },
      provisioner: "rancher.io/local-path",
      volumeBindingMode: "WaitForFirstConsumer",
      reclaimPolicy: "Delete",
    } as Obj,
  ];
}

/** The API server's own client may use the kubelet's API (logs, exec, port-forward). */
function apiServerToKubelet(): Obj[] {
  return [{
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "cncfdemo:kube-apiserver-kubelet-client" },
    roleRef: {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: "system:kubelet-api-admin",
    },
    subjects: [{
      apiGroup: "rbac.authorization.k8s.io",
      kind: "User",
      name: "kube-apiserver-kubelet-client",
    }],
  } as Obj];
}

/** Every add-on object, labelled as ours. */
export async function addonObjects(ctx: LocalContext, images: ImagesMode): Promise<Obj[]> {
  const all = [
    ...apiServerToKubelet(),
    ...coredns(ctx, images),
    ...(await metricsServer(ctx)),
    ...localPath(ctx),
  ];
  for (const o of all) {
    const m = o.metadata as { labels?: Record<string, string> };
    m.labels = { ...m.labels, ...LABELS };
    const pod = (o as {
      spec?: {
        template?: {
          metadata: { labels?: Record<string, string> };
          spec: { containers: { terminationMessagePolicy?: string }[] };
        };
      };
    }).spec?.template;
    if (!pod) continue;
    // The bootstrap watches these pods to fail fast; a crash's last log lines become its
    // termination message, which the bootstrap's error shows.
    pod.metadata.labels = { ...pod.metadata.labels, "cncfdemo.io/addon": "true" };
    for (const c of pod.spec.containers) c.terminationMessagePolicy = "FallbackToLogsOnError";
  }
  return all;
}

/**
 * Applies the add-ons (server-side, strict): namespaces first, then everything else at once.
 * Returns how many were created or changed.
 */
export async function applyAddons(kube: Kube, objects: readonly Obj[]): Promise<number> {
  const one = async (o: Obj) => {
    const before = await kube.rest.get(o);
    const after = await kube.rest.apply(o, { fieldManager: ADDON_FIELD_MANAGER });
    return before?.metadata?.resourceVersion !== after.metadata?.resourceVersion ? 1 : 0;
  };
  const namespaces = objects.filter((o) => o.kind === "Namespace");
  const rest = objects.filter((o) => o.kind !== "Namespace");
  const changed = [
    ...(await Promise.all(namespaces.map(one))),
    ...(await Promise.all(rest.map(one))),
  ];
  return changed.reduce<number>((a, b) => a + b, 0);
}

/** Why an add-on's pod can never become ready (a crash loop, an image it cannot get), if so. */
export function addonPodProblem(pods: readonly KubernetesObject[]): string | undefined {
  const pull = imagePullProblems(pods)[0];
  if (pull) {
    return `Add-on pod ${pull.namespace}/${pull.pod} cannot get its image ${pull.image} (${pull.reason}): run "deno task bake --target images", or bootstrap with --images pull where a registry answers`;
  }
  for (const p of pods as V1Pod[]) {
    for (const c of p.status?.containerStatuses ?? []) {
      if (c.state?.waiting?.reason !== "CrashLoopBackOff") continue;
      const last = c.lastState?.terminated;
      const why = (last?.message ?? "").trim().split("\n").filter(Boolean).at(-1) ??
        `exit code ${last?.exitCode}`;
      return `Add-on pod ${p.metadata?.namespace}/${p.metadata?.name} is crash-looping (container ${c.name}: ${why})`;
    }
  }
  return undefined;
}

/**
 * Waits for the add-ons' Deployments to be available and the metrics APIService to answer; stops
 * at once when an add-on's pod can never become ready ({@link addonPodProblem}).
 */
export async function waitForAddons(
  ctx: LocalContext,
  which: readonly AddonName[],
  progress: (m: string) => void,
): Promise<void> {
  const kube = ctx.kube!;
  const deployments = which.map((name) => [ADDON_NAMESPACE[name], name] as const);
  const pending = new Set(deployments.map(([ns, n]) => `${ns}/${n}`));
  const stop = new AbortController();
  // Watches the add-ons' pods only to fail fast: it never finishes by itself.
  const podWatches = [SYSTEM, STORAGE_NS].map((namespace) =>
    watchUntil<KubernetesObject>(
      kube,
      { apiVersion: "v1", kind: "Pod", namespace, labelSelector: ADDON_POD_SELECTOR },
      () => false,
      {
        timeoutMs: timeLeft(ctx) + 60_000,
        describe: () => "",
        fail: addonPodProblem,
        signal: stop.signal,
      },
    )
  );
  const ready = Promise.all([
    ...deployments.map(([ns, name]) =>
      watchUntil<KubernetesObject>(
        kube,
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          namespace: ns,
          fieldSelector: `metadata.name=${name}`,
        },
        (ds) => ds.length === 1 && readiness({ ...ds[0]!, kind: "Deployment" }).ready,
        {
          timeoutMs: timeLeft(ctx),
          describe: (ds) =>
            `Add-on ${ns}/${name} is not ready (${
              ds[0] ? readiness({ ...ds[0], kind: "Deployment" }).status : "missing"
            }); see kubectl -n ${ns} describe deployment ${name}`,
        },
      ).then(() => {
        pending.delete(`${ns}/${name}`);
        if (pending.size) progress(`waiting for ${[...pending].join(", ")}`);
      })
    ),
    // metrics-server is ready when its API is: the aggregation layer reaches it.
    ...(which.includes("metrics-server")
      ? [waitForMetricsApi(kube, { timeoutMs: timeLeft(ctx), signal: stop.signal })]
      : []),
  ]);
  try {
    await Promise.race([ready, ...podWatches]);
  } finally {
    stop.abort();
    await Promise.allSettled([ready, ...podWatches]);
  }
}
