/**
 * Test support: workloads of the real-node tests, in namespace default — web servers
 * (the bench-target image, nginx) behind Services: `web1` (1 replica), `web3` (3), `webhpa` (1, an
 * HPA on CPU up to 3), and `burner`, background work that yields: a low-priority pod of the tools
 * image burning CPU in a loop bounded to 10 minutes (BOINC gets no work offline).
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { CATALOG } from "../../lib/images/catalog.ts";
import type { Kube } from "../../lib/kube/client.ts";
import { readiness } from "../../lib/kube/readiness.ts";
import { watchUntil } from "../../lib/kube/watch.ts";

export const NS = "default";
export type Obj = KubernetesObject & {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
};

/** A web server (the bench-target image, nginx on 8080) and its Service on port 80. */
export function web(name: string, replicas: number, cpu = "20m"): Obj[] {
  return [{
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 5,
          securityContext: { runAsNonRoot: true, runAsUser: 101, runAsGroup: 101 },
          containers: [{
            name: "web",
            image: CATALOG["bench-target"].ref,
            imagePullPolicy: "IfNotPresent",
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
            resources: { requests: { cpu }, limits: { cpu: "500m", memory: "64Mi" } },
            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
          }],
          volumes: [{ name: "tmp", emptyDir: {} }],
        },
      },
    },
  } as Obj, {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: NS },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
  } as Obj];
}

/**
 * An autoscaling/v2 HPA on CPU (50 % of requests) for Deployment `name`, 1 to 3 replicas, scaling
 * up at once; `scaleDown` (e.g. a zero window) when a test needs it to come back down quickly.
 */
export function cpuHpa(name: string, scaleDown?: Record<string, unknown>): Obj {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name, namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: 1,
      maxReplicas: 3,
      metrics: [{
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
      }],
      behavior: { scaleUp: { stabilizationWindowSeconds: 0 }, ...(scaleDown ? { scaleDown } : {}) },
    },
  } as Obj;
}

const PRIORITY: Obj = {
  apiVersion: "scheduling.k8s.io/v1",
  kind: "PriorityClass",
  metadata: { name: "experiment-background" },
  value: -10,
  preemptionPolicy: "Never",
  description: "background work: preempted first",
} as Obj;

const BURNER: Obj = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "burner", namespace: NS },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "burner" } },
    template: {
      metadata: { labels: { app: "burner" } },
      spec: {
        priorityClassName: "experiment-background",
        terminationGracePeriodSeconds: 1,
        securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534 },
        containers: [{
          name: "burn",
          image: CATALOG.tools.ref,
          imagePullPolicy: "IfNotPresent",
          // Bounded: the loop ends after 600 s whatever happens to the test.
          command: [
            "sh",
            "-c",
            'end=$(( $(date +%s) + 600 )); while [ "$(date +%s)" -lt "$end" ]; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; done',
          ],
          resources: { requests: { cpu: "10m" }, limits: { cpu: "500m", memory: "32Mi" } },
        }],
      },
    },
  },
} as Obj;

/** Applies every workload and waits until the Deployments are ready. */
export async function applyExperimentWorkloads(kube: Kube): Promise<void> {
  const objs = [
    ...web("web1", 1),
    ...web("web3", 3),
    ...web("webhpa", 1),
    cpuHpa("webhpa"),
    PRIORITY,
    BURNER,
  ];
  await apply(kube, ...objs);
  for (const name of ["web1", "web3", "webhpa", "burner"]) {
    await ready(kube, "Deployment", name, 120_000);
  }
}

/** Server-side applies the objects, as the tests' field manager. */
export async function apply(kube: Kube, ...objs: Obj[]): Promise<void> {
  for (const o of objs) await kube.rest.apply(o, { fieldManager: "cncfdemo-test" });
}

/** Waits until a Deployment, Job, … in {@link NS} is ready by the project's readiness rules. */
export async function ready(
  kube: Kube,
  kind: string,
  name: string,
  timeoutMs = 90_000,
): Promise<KubernetesObject> {
  const apiVersion = kind === "Job" ? "batch/v1" : "apps/v1";
  const [o] = await watchUntil<KubernetesObject>(
    kube,
    { apiVersion, kind, namespace: NS, fieldSelector: `metadata.name=${name}` },
    (os) => os.length === 1 && readiness({ ...os[0]!, kind }).ready,
    {
      timeoutMs,
      describe: (os) =>
        `${kind} ${name}: ${os[0] ? readiness({ ...os[0], kind }).status : "missing"}`,
      fail: (os) => (os[0] ? readiness({ ...os[0], kind }).failed : undefined),
    },
  );
  return o!;
}
