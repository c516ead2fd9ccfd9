/**
 * demo — the whole pipeline in one command: bootstrap a cluster (a simulated one by default, any
 * provider of the registry with --provider) or use an existing one (--context: kind, minikube,
 * Docker Desktop…), roll out the stack (Prometheus, Grafana, sharded MongoDB, Countly, BOINC), run
 * a short benchmark when the cluster can run containers (or say why not), then say where each part
 * lives. On a cluster that runs containers, components whose images the nodes cannot get are
 * switched off first (one line each), and with Countly off the benchmark loads the bench target.
 * After the rollout it requests the stack (the bench target, or Countly's API) through the API
 * server until a good answer arrives, and writes the bootstrap's and the rollout's records
 * (`<results-dir>/<id>.json`, cncfdemo.bootstrap/v1 and cncfdemo.rollout/v1) with that time.
 *
 * Arguments: --provider sim (default) and that provider's bootstrap flags (sim: --name, --nodes,
 *            --node-cpu, --node-memory, --node-pods, --bin-dir), or --context NAME; the values
 *            flags of rollout (--values, --set), --kubeconfig, --timeout, --no-bench,
 *            --results-dir DIR
 * Example:   deno task demo
 *            deno task demo --nodes 10 --set countly.api.minReplicas=4
 *            deno task demo --context kind-kind
 */
import type { BenchOutcome } from "../lib/bench/bench_steps.ts";
import type { ContainerCapability } from "../lib/bench/can_run_containers.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { type Command, flag, type FlagSpec, parseFlags } from "../lib/flags.ts";
import type { Kube } from "../lib/kube/client.ts";
import { log } from "../lib/log.ts";
import type { ClusterInfo } from "../lib/providers/provider.ts";
import {
  givenFlags,
  mergeFlagSpecs,
  PROVIDER_IDS,
  providerEntry,
  refuseForeignFlags,
  type RegisteredProvider,
} from "../lib/providers/providers.ts";
import { isEnabled } from "../lib/stack/switches.ts";
import type { Values } from "../lib/stack/values.ts";
import { valuesFlags } from "../lib/stack/values_flags.ts";
import { runSteps, sequence, type Step, type StepGroup } from "../lib/steps.ts";
import type { FirstGoodRequest } from "../lib/report/records.ts";
import { defaultResultsDir } from "../lib/report/schema.ts";
import { deadline } from "../lib/wait.ts";
import { formatDuration } from "../lib/duration.ts";
import { uiFlags, withUi } from "../lib/ui/live_ui.ts";
import { summaryLines } from "../lib/ui/emit.ts";

export const command: Command = {
  name: "demo",
  summary:
    "Bootstrap a cluster (simulated by default) or use --context, roll out the demo stack, benchmark it when it can, and show where things are.",
  examples: [
    "deno task demo",
    "deno task demo --nodes 10 --set countly.api.minReplicas=4",
    "deno task demo --context kind-kind",
  ],
};

/** Where the demo runs. */
const where = {
  provider: flag.choice(
    "Bootstrap a cluster with this provider (default: sim)",
    PROVIDER_IDS,
    { placeholder: PROVIDER_IDS.join("|") },
  ),
  context: flag.string(
    "Run on this existing cluster instead of bootstrapping one (kind, minikube, Docker Desktop…)",
    { placeholder: "NAME" },
  ),
};

/** The demo's own flags: the same whichever cluster it runs on. */
const common = {
  ...where,
  ...valuesFlags,
  kubeconfig: flag.string(
    "Kubeconfig to merge the cluster's context into, or to read --context from",
    {
      placeholder: "FILE",
    },
  ),
  timeout: flag.duration(
    "Deadline of the whole demo, shared by every wait: bootstrap, rollout, first good request",
    { default: "20m" },
  ),
  "no-bench": flag.boolean("Skip the closing benchmark"),
  "results-dir": flag.string(
    "Directory for the records and the benchmark's <id>.json ($CNCFDEMO_RESULTS_DIR sets the default)",
    { default: defaultResultsDir(), placeholder: "DIR" },
  ),
  ...uiFlags,
};

/** What each provider's demo bootstrap takes (`timeout` and `kubeconfig` are the demo's own). */
function bootstrapFlags(id: RegisteredProvider): FlagSpec {
  const demo = providerEntry(id).demo;
  if (!("flags" in demo)) return {};
  return Object.fromEntries(Object.entries(demo.flags).filter(([k]) => !(k in common)));
}

/** Every provider's bootstrap flags (help says whose), then the demo's own. */
export const flags = {
  ...where,
  ...mergeFlagSpecs(
    PROVIDER_IDS.map(bootstrapFlags),
    PROVIDER_IDS.map((id) => `--provider ${id}`),
  ),
  ...common,
};

/** Where each part of the stack lives, for the closing lines: the parts switched on. */
export function whereThingsAre(values: Values, context: string): string[] {
  const k = `kubectl --context ${context}`;
  const mon = values.monitoringNamespace;
  const app = values.namespace;
  const on = (c: Parameters<typeof isEnabled>[1]) => isEnabled(values, c);
  return [
    ...(on("grafana")
      ? [
        `Grafana:      ${k} -n ${mon} port-forward svc/grafana 3000  → http://127.0.0.1:3000 (user ${values.grafana.adminUser})`,
        `              password: ${k} -n ${mon} get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d`,
      ]
      : []),
    ...(on("prometheus")
      ? [`Prometheus:   ${k} -n ${mon} port-forward svc/prometheus 9090  → http://127.0.0.1:9090`]
      : []),
    ...(on("pushgateway") ? [`Pushgateway:  svc/pushgateway.${mon}:9091`] : []),
    ...(on("countly-api")
      ? [
        `Countly API:  ${k} -n ${app} port-forward svc/countly-api 3001  (app key: secret countly, key app-key)`,
      ]
      : []),
    // One origin for the browser: Countly's router sends /i and /o to the API, the rest to the
    // dashboard (a port-forward to the dashboard alone gives a page whose data calls fail).
    ...(on("countly-dashboard")
      ? [
        `Countly:      ${k} -n ${app} port-forward svc/countly 8080:80  → http://127.0.0.1:8080/ (dashboard; /i and /o go to the API)`,
      ]
      : []),
    ...(on("mongos")
      ? [`MongoDB:      svc/mongos.${app}:27017 (reachable from Countly and the init Jobs only)`]
      : []),
    ...(on("boinc")
      ? [`BOINC:        ${k} -n ${app} get deploy boinc  (background, lowest priority)`]
      : []),
    ...(on("bench-target")
      ? [
        `Bench target: http://bench-target.${app}/  (${k} -n ${app} port-forward svc/bench-target 8080:80)`,
      ]
      : []),
  ];
}

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  const until = deadline(o.timeout);
  if (o.context && o.provider) {
    throw new UsageError(
      `Pass --context (run on an existing cluster) or --provider (bootstrap one), not both: --context ${o.context} --provider ${o.provider}`,
    );
  }
  const id: RegisteredProvider | undefined = o.context ? undefined : o.provider ?? "sim";
  const entry = id === undefined ? undefined : providerEntry(id);
  let own: Record<string, unknown> = {};
  if (id === undefined || !entry) {
    const stray = givenFlags(args, mergeFlagSpecs(PROVIDER_IDS.map(bootstrapFlags)));
    if (stray.length) {
      throw new UsageError(
        `--${stray[0]} sets up a new cluster; --context ${o.context} uses an existing one: drop --${
          stray[0]
        }`,
      );
    }
  } else {
    if (!("flags" in entry.demo)) throw new UsageError(entry.demo.unsupported);
    refuseForeignFlags(
      args,
      id,
      bootstrapFlags(id),
      (e) => ("flags" in e.demo ? e.demo.flags : {}),
    );
    own = parseFlags(command, { ...bootstrapFlags(id), ...common }, args);
  }
  // Everything heavy loads once the input is known good: --help and usage errors answer first.
  const [kubeClient, { assertKubeconfigWritable }, recording, stackValues, plan] = await Promise
    .all([
      import("../lib/kube/client.ts"),
      import("../lib/kube/kubeconfig.ts"),
      import("../lib/report/records.ts"),
      import("../lib/stack/values.ts"),
      import("../lib/stack/plan.ts"),
    ]);
  const [{ benchSteps, demoBenchOptions }, { canRunContainers }, { fitToNodes }] = await Promise
    .all([
      import("../lib/bench/bench_steps.ts"),
      import("../lib/bench/can_run_containers.ts"),
      import("../lib/stack/fit_to_nodes.ts"),
    ]);
  const [{ emptyReport }, { reportLine, rolloutPlan }, { firstGoodRequest, probeTarget }] =
    await Promise.all([
      import("../lib/stack/rollout.ts"),
      import("../lib/stack/rollout_plan.ts"),
      import("../lib/report/first_request.ts"),
    ]);
  const { connectKube, defaultKubeconfigPath } = kubeClient;
  const { applySet, resolveValues } = stackValues;
  const { checkTemplates, hasDefaultStorageClass } = plan;
  const kubeconfig = o.kubeconfig ?? defaultKubeconfigPath();
  const info: Partial<ClusterInfo> = {};
  let bootstrap: (Step | StepGroup)[] = [];
  let existed: boolean | null = null;
  if (entry && "flags" in entry.demo) {
    await assertKubeconfigWritable(kubeconfig);
    await entry.demo.preflight(own, { kubeconfig, timeoutMs: until.left() });
    existed = await recording.existedBefore(await entry.load(), String(own.name));
    bootstrap = [sequence(
      `Bootstrap the ${entry.title} cluster`,
      await entry.demo.bootstrapSteps(own, { kubeconfig, timeoutMs: until.left() }, info),
    )];
  }
  const values = await resolveValues(o.values, o.set);
  await checkTemplates(values);
  let kube: Kube | undefined;
  const getKube = () => kube!;
  let can: ContainerCapability | undefined;
  const report = emptyReport();
  const bench: BenchOutcome = {};
  let benchUrl: string | undefined;
  let skipped = o.noBench ? "--no-bench" : "";
  let first: FirstGoodRequest | null = null;
  let firstNote: string | null = null;
  const steps: (Step | StepGroup)[] = [
    ...bootstrap,
    {
      name: "Connect",
      async run() {
        kube = await connectKube({ kubeconfig, context: info.context ?? o.context });
        info.context = kube.context;
        info.server = kube.server;
        return `${kube.context} at ${kube.server}`;
      },
    },
    {
      name: "Fit the stack to the cluster",
      async run(ctx) {
        const notes: string[] = [];
        // Without a volume provisioner (simulated clusters), MongoDB keeps its data in emptyDir,
        // unless the values say otherwise.
        const userSetsStorage = o.set.some((s) => s.startsWith("mongo.persistence."));
        if (!userSetsStorage && values.mongo.persistence.enabled && isEnabled(values, "mongos")) {
          if (!(await hasDefaultStorageClass(getKube()))) {
            applySet(values, "mongo.persistence.enabled=false");
            notes.push("MongoDB in emptyDir (no default StorageClass)");
          }
        }
        can = await canRunContainers(getKube());
        if (!can.ok) {
          if (!skipped) skipped = can.reason;
          return [...notes, "no node runs containers: nothing else to fit"].join("; ");
        }
        const nodes = (await getKube().core.listNode()).items;
        const fit = await fitToNodes(values, nodes, { bench: !skipped });
        for (const line of fit.notes) ctx.note(line);
        if (fit.benchSkip) skipped = fit.benchSkip;
        benchUrl = fit.benchUrl;
        return [
          ...notes,
          fit.notes.length ? `${fit.notes.length} switched` : "every component can run",
        ].join("; ");
      },
    },
    sequence(
      "Roll out the stack",
      rolloutPlan(getKube, values, {
        dryRun: false,
        diff: false,
        deadline: until,
        prune: true,
      }, report),
    ),
    {
      name: "First good request",
      async run() {
        const rolloutEndMs = performance.now();
        const target = probeTarget(values, benchUrl);
        firstNote = !can?.ok ? can?.reason ?? "" : target ? null : "no HTTP component is on";
        if (firstNote !== null) return `skipped: ${firstNote}`;
        first = await firstGoodRequest(getKube(), target!, {
          timeoutMs: until.left(),
          rolloutEndMs,
        });
        return `${first.target} answered ${formatDuration(first.ms)} after the command started`;
      },
    },
    sequence("Benchmark", () => {
      if (skipped) return [{ name: "Skip the benchmark", run: () => Promise.resolve(skipped) }];
      return benchSteps(
        {
          ...demoBenchOptions({ kubeconfig, context: info.context }, o.resultsDir),
          url: benchUrl,
        },
        bench,
      );
    }),
  ];
  const records: string[] = [];
  try {
    const timeline = await runSteps(steps);
    records.push(
      ...await recording.recordDemo(o.resultsDir, {
        timeline,
        bootstrapGroup: bootstrap[0]?.name,
        rolloutGroup: "Roll out the stack",
        provider: id,
        flags: own,
        existed,
        info,
        kube: getKube(),
        values,
        report,
        firstGoodRequest: first,
        firstGoodRequestNote: firstNote,
      }),
    );
  } finally {
    kube?.close();
  }
  const nodes = can
    ? `${can.nodes} ${can.simulated === can.nodes ? "simulated " : ""}node${
      can.nodes === 1 ? "" : "s"
    }`
    : "";
  log.info("");
  summaryLines(
    reportLine(report, false),
    ...(skipped ? [`Benchmark skipped: ${skipped}.`] : []),
    ...(bench.resultPath ? [`Benchmark result: ${bench.resultPath}`] : []),
    ...records.map((r) => `Record:       ${r}`),
    `Cluster:      ${info.server} (context ${info.context}, ${nodes})`,
    ...whereThingsAre(values, info.context!),
    ...(can && !can.ok && !o.noBench
      ? ["(Simulated nodes run no containers: port-forwards work on a cluster that runs them.)"]
      : []),
    id
      ? `Tear down:    deno task teardown --provider ${id} --name ${info.name}`
      : `Tear down:    deno task teardown --apps --context ${info.context}  (the stack; the cluster is yours)`,
  );
}

if (import.meta.main) runMain(withUi(command, main));
