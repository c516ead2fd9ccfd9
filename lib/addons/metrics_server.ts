/**
 * metrics-server as every cluster that owns it runs it (the `local` and `aws` providers): resource
 * metrics for `kubectl top` and autoscaling, verifying the kubelets' serving certificates with the
 * cluster CA (no insecure skip), serving with a certificate issued by that CA, and registered with
 * an APIService that carries the CA. Callers add their own labels and pod policies.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { Buffer } from "node:buffer";
import type { Kube } from "../kube/client.ts";
import { watchUntil } from "../kube/watch.ts";
import { certInfo, isIssuedBy, issueCert } from "../pki.ts";

export interface MetricsServerOptions {
  image: string;
  /** Its serving certificate and key (PEM), issued by the cluster CA for {@link METRICS_SERVER_NAMES}. */
  tls: { cert: string; key: string };
  /** The cluster CA certificate (PEM), for the APIService. */
  caCert: string;
  /** How often it scrapes the kubelets; its metrics API is ready after two scrapes (min 10 s). */
  resolutionSeconds?: number;
}

/** metrics-server's names in the cluster (its serving certificate's SANs). */
export const METRICS_SERVER_NAMES = [
  "metrics-server.kube-system.svc",
  "metrics-server.kube-system.svc.cluster.local",
];

export const METRICS_APISERVICE = "v1beta1.metrics.k8s.io";

type Obj = KubernetesObject & { apiVersion: string; kind: string; metadata: { name: string } };

const SYSTEM = "kube-system";
/** The cluster CA, as every pod's service account volume carries it. */
const SA_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
const b64 = (text: string) => Buffer.from(text).toString("base64");

function binding(name: string, roleKind: "Role" | "ClusterRole", role: string, ns?: string): Obj {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: ns ? "RoleBinding" : "ClusterRoleBinding",
    metadata: { name, ...(ns ? { namespace: ns } : {}) },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: role },
    subjects: [{ kind: "ServiceAccount", name: "metrics-server", namespace: SYSTEM }],
  } as Obj;
}

/** Every object of metrics-server, in kube-system. */
export function metricsServerObjects(o: MetricsServerOptions): Obj[] {
  const app = { "k8s-app": "metrics-server" };
  const resolution = o.resolutionSeconds ?? 15;
  return [
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "metrics-server", namespace: SYSTEM },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: {
        name: "system:aggregated-metrics-reader",
        labels: {
          "rbac.authorization.k8s.io/aggregate-to-view": "true",
          "rbac.authorization.k8s.io/aggregate-to-edit": "true",
          "rbac.authorization.k8s.io/aggregate-to-admin": "true",
        },
      },
      rules: [{
        apiGroups: ["metrics.k8s.io"],
        resources: ["pods", "nodes"],
        verbs: ["get", "list", "watch"],
      }],
    } as Obj,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:metrics-server" },
      rules: [
        { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
        { apiGroups: [""], resources: ["pods", "nodes"], verbs: ["get", "list", "watch"] },
      ],
    } as Obj,
    binding(
      "metrics-server-auth-reader",
      "Role",
      "extension-apiserver-authentication-reader",
      SYSTEM,
    ),
    binding("metrics-server:system:auth-delegator", "ClusterRole", "system:auth-delegator"),
    binding("system:metrics-server", "ClusterRole", "system:metrics-server"),
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "metrics-server-tls", namespace: SYSTEM },
      type: "kubernetes.io/tls",
      data: { "tls.crt": b64(o.tls.cert), "tls.key": b64(o.tls.key) },
    } as Obj,
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "metrics-server", namespace: SYSTEM, labels: app },
      spec: {
        replicas: 1,
        selector: { matchLabels: app },
        template: {
          metadata: { labels: app },
          spec: {
            serviceAccountName: "metrics-server",
            priorityClassName: "system-cluster-critical",
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65534,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [{
              name: "metrics-server",
              image: o.image,
              imagePullPolicy: "IfNotPresent",
              args: [
                "--secure-port=10250",
                "--cert-dir=/tmp",
                "--tls-cert-file=/certs/tls.crt",
                "--tls-private-key-file=/certs/tls.key",
                // The kubelets' serving certificates are signed by the cluster CA: verify them.
                `--kubelet-certificate-authority=${SA_CA}`,
                "--kubelet-preferred-address-types=InternalIP",
                "--kubelet-use-node-status-port",
                `--metric-resolution=${resolution}s`,
                // It refuses a request timeout that is not below the resolution.
                `--kubelet-request-timeout=${Math.min(10, resolution - 5)}s`,
              ],
              ports: [{ name: "https", containerPort: 10250, protocol: "TCP" }],
              resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
              readinessProbe: {
                httpGet: { path: "/readyz", port: "https", scheme: "HTTPS" },
                periodSeconds: 2,
                failureThreshold: 3,
              },
              livenessProbe: {
                httpGet: { path: "/livez", port: "https", scheme: "HTTPS" },
                periodSeconds: 10,
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [
                { name: "tmp", mountPath: "/tmp" },
                { name: "certs", mountPath: "/certs", readOnly: true },
              ],
            }],
            volumes: [
              { name: "tmp", emptyDir: {} },
              { name: "certs", secret: { secretName: "metrics-server-tls" } },
            ],
          },
        },
      },
    } as Obj,
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "metrics-server", namespace: SYSTEM, labels: app },
      spec: {
        selector: app,
        ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: "https" }],
      },
    } as Obj,
    {
      apiVersion: "apiregistration.k8s.io/v1",
      kind: "APIService",
      metadata: { name: METRICS_APISERVICE, labels: app },
      spec: {
        group: "metrics.k8s.io",
        version: "v1beta1",
        service: { name: "metrics-server", namespace: SYSTEM, port: 443 },
        caBundle: b64(o.caCert),
        insecureSkipTLSVerify: false,
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    } as Obj,
  ];
}

/**
 * metrics-server's serving certificate: the one already in the cluster when it was issued by this
 * CA for {@link METRICS_SERVER_NAMES} and has more than 30 days left (a re-run changes nothing),
 * else a new one.
 */
export async function metricsServerCert(
  ca: { cert: string; key: string },
  existing: { cert: string; key: string } | undefined,
  now = new Date(),
): Promise<{ cert: string; key: string; issued: boolean }> {
  if (existing && await isIssuedBy(existing.cert, ca.cert)) {
    const info = certInfo(existing.cert);
    const left = info.notAfter.getTime() - now.getTime();
    if (
      METRICS_SERVER_NAMES.every((n) => info.dnsNames.includes(n)) && left > 30 * 86_400_000
    ) {
      return { ...existing, issued: false };
    }
  }
  const made = await issueCert(ca, {
    commonName: "metrics-server",
    dnsNames: METRICS_SERVER_NAMES,
    usage: "server",
    validDays: 365,
    now,
  });
  return { ...made, issued: true };
}

/** The APIService's Available condition, if it reports one. */
export function metricsApiCondition(
  apiService: KubernetesObject | undefined,
): { status: string; reason?: string; message?: string } | undefined {
  const conditions = (apiService as
    | {
      status?: {
        conditions?: { type: string; status: string; reason?: string; message?: string }[];
      };
    }
    | undefined)?.status?.conditions ?? [];
  return conditions.find((c) => c.type === "Available");
}

/** Waits until the metrics API is Available (metrics-server has scraped the kubelets twice). */
export async function waitForMetricsApi(
  kube: Kube,
  o: { timeoutMs: number; signal?: AbortSignal; progress?: (m: string) => void; hint?: string },
): Promise<void> {
  await watchUntil<KubernetesObject>(
    kube,
    {
      apiVersion: "apiregistration.k8s.io/v1",
      kind: "APIService",
      fieldSelector: `metadata.name=${METRICS_APISERVICE}`,
    },
    (xs) => metricsApiCondition(xs[0])?.status === "True",
    {
      timeoutMs: o.timeoutMs,
      ...(o.signal ? { signal: o.signal } : {}),
      describe: (xs) =>
        `The resource metrics API (APIService ${METRICS_APISERVICE}) is not Available: ${
          metricsApiCondition(xs[0])?.message ?? "not registered"
        }${o.hint ? `; ${o.hint}` : ""}`,
      onChange: (xs) => o.progress?.(metricsApiCondition(xs[0])?.reason ?? "waiting for metrics"),
    },
  );
}
