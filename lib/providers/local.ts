/**
 * Provider `local`: a real single-node cluster on this machine (Linux, root — like minikube's
 * `none` driver). The control plane comes from the same pinned binaries as `sim`, with a real PKI;
 * the node is a real kubelet and kube-proxy over containerd, runc and the CNI bridge plugin; the
 * add-ons are CoreDNS, metrics-server and a default StorageClass with a node-local provisioner.
 * Images come from archives built here (`--images offline`) or from their registries (`pull`).
 * Everything listens on 127.0.0.1 or the node's bridge, and pods' traffic never leaves the machine.
 * State lives in `<state>/local/<name>`; the kube context is `local-<name>`. Each action is a file
 * in `local/`, over one typed context ({@link LocalContext}).
 */
import { Buffer } from "node:buffer";
import { NODE_BINARIES, resolveBinaries, VERSIONS } from "../binaries.ts";
import { CncfdemoError } from "../errors.ts";
import { connectKube, defaultKubeconfigPath } from "../kube/client.ts";
import { mergeKubeEntry, removeKubeEntry } from "../kube/kubeconfig.ts";
import { exists, writeFileAtomic } from "../paths.ts";
import { parallel, sequence, type Step, type StepGroup } from "../steps.ts";
import { Deadline } from "../wait.ts";
import { addonObjects, applyAddons, waitForAddons } from "./local/addons.ts";
import type { LocalContext, LocalCreateOptions, LocalDeleteOptions } from "./local/context.ts";
import { apiServerUrl, ensureControllers, ensureEtcdAndApiServer } from "./local/control_plane.ts";
import { ensureContainerd } from "./local/container_runtime.ts";
import {
  assertCidrsFree,
  assertHostPrograms,
  assertLinuxRoot,
  assertNoOtherCluster,
  assertPortsFree,
  bridgeOwner,
  hostFacts,
  recordHost,
} from "./local/host.ts";
import { chooseImagesMode, ensureNodeImages, markNodeImages } from "./local/images.ts";
import { localLayout, localNetwork, localRoot } from "./local/layout.ts";
import { setUpNetwork } from "./local/network.ts";
import { ensureNode } from "./local/node.ts";
import { ensureClusterPki, kubeconfigFor } from "./local/pki.ts";
import { closeProbes } from "./local/probe.ts";
import {
  removeCgroups,
  removeCreatedRuntimePaths,
  restoreSysctls,
  stopClusterProcesses,
  tearDownNetwork,
  unmountAll,
} from "./local/teardown.ts";
import { processesMentioning } from "../stop_processes.ts";
import type { Provider } from "./provider.ts";

export type { LocalCreateOptions, LocalDeleteOptions };

/** The components' kubeconfigs, written 0600 into the config directory. */
async function writeKubeconfigs(ctx: LocalContext) {
  const server = apiServerUrl(ctx);
  const c = ctx.layout.config;
  const files = {
    admin: `${c}/admin.conf`,
    controllerManager: `${c}/controller-manager.conf`,
    scheduler: `${c}/scheduler.conf`,
    kubelet: `${c}/kubelet.conf`,
    kubeProxy: `${c}/kube-proxy.conf`,
  };
  const which = {
    admin: "admin",
    controllerManager: "controller-manager",
    scheduler: "scheduler",
    kubelet: "kubelet",
    kubeProxy: "kube-proxy",
  } as const;
  for (const [k, path] of Object.entries(files) as [keyof typeof files, string][]) {
    const text = await kubeconfigFor(ctx.layout.pki, which[k], {
      server,
      clusterName: ctx.layout.name,
    });
    await writeFileAtomic(path, text, 0o600);
  }
  return files;
}

/**
 * What must hold before anything changes: Linux and root, the host's programs, no other local
 * cluster, CIDRs clear of each other and of the host's routes, the node's ports free (or held by
 * this cluster's own processes, on a re-run).
 */
async function checkHost(o: LocalCreateOptions): Promise<void> {
  assertLinuxRoot();
  await assertHostPrograms();
  const layout = localLayout(o.name);
  const net = localNetwork(o.podCidr, o.serviceCidr, o.apiPort);
  await assertNoOtherCluster(layout);
  await assertCidrsFree(net);
  await assertPortsFree(net, new Set(await processesMentioning(layout.dir)));
}

export const localProvider: Provider<LocalCreateOptions, LocalDeleteOptions> = {
  id: "local",

  contextName: (name) => `local-${name}`,

  preflight: checkHost,

  async list() {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(localRoot())) if (e.isDirectory) names.push(e.name);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return names.sort();
  },

  bootstrapSteps(o, info) {
    const kubeconfig = o.kubeconfig ?? defaultKubeconfigPath();
    const context = `local-${o.name}`;
    const ctx: LocalContext = {
      options: o,
      layout: localLayout(o.name),
      net: localNetwork(o.podCidr, o.serviceCidr, o.apiPort),
      deadline: new Deadline(o.timeoutMs),
      kubeconfig,
    };
    Object.assign(info, { provider: "local", name: o.name, context, kubeconfig });
    let kubeconfigs: Awaited<ReturnType<typeof writeKubeconfigs>>;
    const steps: (Step | StepGroup)[] = [
      {
        name: "Check the host",
        async run(s) {
          await checkHost(o);
          ctx.facts = await hostFacts();
          const notes: string[] = [];
          if (!ctx.facts.cgroupV2) {
            s.note(
              "warning: cgroup v1 host: the kubelet runs with failCgroupV1: false (Kubernetes 1.35+ deprecates v1)",
            );
          }
          if (!ctx.facts.capSysResource) {
            s.note(
              "warning: root lacks CAP_SYS_RESOURCE: oom_score_adj is not lowered (containerd restrict_oom_score_adj, kubelet and kube-proxy oomScoreAdj 0)",
            );
            notes.push("no CAP_SYS_RESOURCE");
          }
          ctx.images = await chooseImagesMode(o.images, s.progress);
          return [`cgroup ${ctx.facts.cgroupV2 ? "v2" : "v1"}`, `images ${ctx.images}`, ...notes]
            .join(", ");
        },
      },
      {
        name: "Get binaries",
        async run(s) {
          const r = await resolveBinaries(NODE_BINARIES, {
            binDir: o.binDir,
            progress: s.progress,
          });
          ctx.bins = r.paths;
          const built = NODE_BINARIES.filter((n) => r.sources[n] === "built");
          return built.length
            ? `built ${built.join(", ")}`
            : `${
              [...new Set(Object.values(r.sources))].join(" + ")
            } (Kubernetes ${VERSIONS.kubernetes}, containerd ${VERSIONS.containerd}, runc ${VERSIONS.runc})`;
        },
      },
      {
        name: "Record the host",
        async run() {
          const rec = await recordHost(ctx.layout);
          return `${Object.keys(rec.sysctls).length} sysctls in ${ctx.layout.hostRecord}`;
        },
      },
      {
        name: "Network",
        async run() {
          const changed = await setUpNetwork(ctx.layout, ctx.net);
          return changed.length ? changed.join(", ") : "unchanged";
        },
      },
      {
        name: "Certificates",
        async run() {
          const r = await ensureClusterPki(ctx.layout.pki, {
            nodeName: ctx.layout.nodeName,
            nodeIp: ctx.net.nodeIp,
            serviceIp: ctx.net.apiServiceIp,
          });
          kubeconfigs = await writeKubeconfigs(ctx);
          return r.created.length ? `made ${r.created.join(", ")}` : "unchanged";
        },
      },
      parallel("Start", [
        sequence("Control plane", [
          {
            name: "etcd and kube-apiserver",
            async run(s) {
              const r = await ensureEtcdAndApiServer(ctx, s.progress);
              ctx.kube = await connectKube({ kubeconfig: kubeconfigs.admin });
              return r.join(", ");
            },
          },
          {
            name: "kube-controller-manager and kube-scheduler",
            async run(s) {
              return (await ensureControllers(ctx, kubeconfigs, s.progress)).join(", ");
            },
          },
          {
            // Applied before the node exists: its pods are scheduled the moment it is Ready.
            name: "Apply the add-ons (CoreDNS, metrics-server, local-path StorageClass)",
            async run() {
              const changed = await applyAddons(ctx.kube!, await addonObjects(ctx, ctx.images!));
              return changed ? `${changed} objects created or changed` : "unchanged";
            },
          },
        ]),
        sequence("Container runtime", [
          {
            name: "containerd",
            run: (s) => ensureContainerd(ctx, s.progress),
          },
          {
            // Before the kubelet starts: its first status lists them (it rereads only every 30 s),
            // and the controller-manager's start, not this, is what pods wait for.
            name: "Images",
            run: (s) => ensureNodeImages(ctx, s.progress),
          },
        ]),
      ]),
      sequence("Node and add-ons", [
        {
          name: "kubelet and kube-proxy",
          async run(s) {
            const r = await ensureNode(ctx, kubeconfigs, s.progress);
            await markNodeImages(ctx);
            return r;
          },
        },
        {
          name: "CoreDNS and the local-path StorageClass",
          async run(s) {
            await waitForAddons(ctx, ["coredns", "local-path-provisioner"], s.progress);
            return "ready";
          },
        },
        {
          name: "metrics-server and the metrics API",
          async run(s) {
            await waitForAddons(ctx, ["metrics-server"], s.progress);
            return "available";
          },
        },
      ]),
      {
        name: `Merge kube context ${context}`,
        async run() {
          const b64 = async (f: string) =>
            Buffer.from(await Deno.readFile(`${ctx.layout.pki}/${f}`)).toString("base64");
          info.server = apiServerUrl(ctx);
          await mergeKubeEntry(kubeconfig, {
            name: context,
            server: info.server,
            certificateAuthorityData: await b64("ca.crt"),
            clientCertificateData: await b64("admin.crt"),
            clientKeyData: await b64("admin.key"),
          }, true);
          ctx.kube?.close();
          closeProbes();
          return `${kubeconfig} (current context)`;
        },
      },
    ];
    return steps;
  },

  teardownSteps(o) {
    const layout = localLayout(o.name);
    const kubeconfig = o.kubeconfig ?? defaultKubeconfigPath();
    let facts: Awaited<ReturnType<typeof hostFacts>>;
    let had = false;
    return [
      {
        name: `Stop local cluster "${o.name}"`,
        async run() {
          assertLinuxRoot();
          facts = await hostFacts();
          had = await exists(layout.dir);
          const owner = await bridgeOwner();
          if (owner && owner.name !== o.name && owner.dir) {
            throw new CncfdemoError(
              `The bridge on this machine belongs to local cluster "${owner.name}", not "${o.name}"; to remove that one: deno task teardown --provider local --name ${owner.name}`,
            );
          }
          const n = await stopClusterProcesses(facts, layout);
          return n ? `stopped ${n} processes` : "no processes";
        },
      },
      {
        name: "Unmount",
        async run() {
          const n = await unmountAll(layout);
          return n ? `${n} mounts` : "nothing mounted";
        },
      },
      {
        name: "Remove the network",
        async run() {
          const removed = await tearDownNetwork();
          return removed.length ? removed.join(", ") : "nothing to remove";
        },
      },
      {
        name: "Restore the host",
        async run() {
          const sysctls = await restoreSysctls(layout);
          const paths = await removeCreatedRuntimePaths(layout);
          const cgroups = await removeCgroups(facts, layout);
          const parts = [
            sysctls.length ? `restored ${sysctls.join(", ")}` : "",
            paths.length ? `removed ${paths.join(", ")}` : "",
            cgroups ? `${cgroups} cgroups removed` : "",
          ].filter(Boolean);
          return parts.length ? parts.join("; ") : "nothing to restore";
        },
      },
      {
        name: "Remove the state",
        async run() {
          await Deno.remove(layout.dir, { recursive: true }).catch((err) => {
            if (!(err instanceof Deno.errors.NotFound)) throw err;
          });
          return had ? `removed ${layout.dir}` : "nothing to remove";
        },
      },
      {
        name: `Remove kube context local-${o.name}`,
        async run() {
          return (await removeKubeEntry(kubeconfig, `local-${o.name}`))
            ? `removed from ${kubeconfig}`
            : "not present";
        },
      },
    ];
  },
};
