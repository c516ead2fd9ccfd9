/**
 * The registry of providers (kind's providers): `teardown --provider X`, `demo --provider X` and
 * kube context names go through it, so the tasks never branch per provider. Adding a provider is
 * one entry in {@link PROVIDERS} and its flags.
 *
 * The registry itself is light (titles and flags, for `--help` and flag parsing); each provider's
 * module — the Kubernetes client, the AWS SDK — loads on first use ({@link ProviderEntry.load}).
 */
import { regionFlag } from "../aws/flags.ts";
import { UsageError } from "../errors.ts";
import type { FlagSpec, Parsed } from "../flags.ts";
import { runSteps, type Step, type StepGroup } from "../steps.ts";
import type { ClusterInfo, Provider, ProviderId } from "./provider.ts";
import type { Deadline } from "../wait.ts";
import { simFlags } from "./sim_flags.ts";
import { localFlags } from "./local_flags.ts";

/** What `teardown --provider X` hands a provider. */
export interface TeardownInput {
  name: string;
  kubeconfig: string;
  /** The task's one deadline. */
  deadline: Deadline;
  /** The provider's own teardown flags ({@link ProviderEntry.teardownFlags}), parsed. */
  flags: Record<string, unknown>;
}

/** How `demo --provider X` bootstraps with this provider. */
export interface DemoSupport {
  /** The bootstrap flags the demo takes for this provider (its bootstrap task's, mostly). */
  readonly flags: FlagSpec;
  /** The provider's checks before any step (bad input in one line), from the same inputs. */
  preflight(
    flags: Record<string, unknown>,
    common: { kubeconfig: string; timeoutMs: number },
  ): Promise<void>;
  /** The provider's bootstrap steps, from those flags (parsed), the kubeconfig and the deadline. */
  bootstrapSteps(
    flags: Record<string, unknown>,
    common: { kubeconfig: string; timeoutMs: number },
    info: Partial<ClusterInfo>,
  ): Promise<(Step | StepGroup)[]>;
}

export interface ProviderEntry {
  /** The provider, its module loaded on first use. */
  load(): Promise<Provider<never, never>>;
  /** A few words for step names and help: `simulated`. */
  readonly title: string;
  /** Flags `teardown --provider X` takes beyond --name, --kubeconfig and --timeout. */
  readonly teardownFlags: FlagSpec;
  /** Deletes the cluster (safe to run again). */
  teardown(o: TeardownInput): Promise<unknown>;
  /** How the demo bootstraps here, or why it does not (one line). */
  readonly demo: DemoSupport | { readonly unsupported: string };
}

/** A typed {@link DemoSupport}: `bootstrapSteps` sees the parsed flags of `flags`. */
function demoWith<S extends FlagSpec, C>(
  load: () => Promise<Provider<C, unknown>>,
  flags: S,
  options: (o: Parsed<S>, common: { kubeconfig: string; timeoutMs: number }) => C,
): DemoSupport {
  return {
    flags,
    preflight: async (o, common) =>
      await (await load()).preflight?.(options(o as Parsed<S>, common)),
    bootstrapSteps: async (o, common, info) =>
      (await load()).bootstrapSteps(options(o as Parsed<S>, common), info),
  };
}

const loadSim = async () => (await import("./sim.ts")).simProvider;
const loadLocal = async () => (await import("./local.ts")).localProvider;

/** Every provider the tasks know, by id. */
export const PROVIDERS = {
  sim: {
    load: loadSim,
    title: "simulated",
    teardownFlags: {},
    teardown: async (o) =>
      runSteps((await loadSim()).teardownSteps({ name: o.name, kubeconfig: o.kubeconfig })),
    demo: demoWith(
      loadSim,
      simFlags,
      (o, c) => ({ ...o, kubeconfig: c.kubeconfig, timeoutMs: c.timeoutMs }),
    ),
  },
  local: {
    load: loadLocal,
    title: "local",
    teardownFlags: {},
    teardown: async (o) =>
      runSteps((await loadLocal()).teardownSteps({ name: o.name, kubeconfig: o.kubeconfig })),
    demo: demoWith(loadLocal, localFlags, (o, c) => ({ ...o, ...c })),
  },
  aws: {
    load: async () => (await import("./aws.ts")).awsProvider,
    title: "AWS",
    teardownFlags: { region: regionFlag },
    teardown: async (o) =>
      (await import("../aws/teardown_task.ts")).awsTeardown({
        name: o.name,
        region: o.flags.region as string | undefined,
        kubeconfig: o.kubeconfig,
        deadline: o.deadline,
      }),
    demo: {
      unsupported:
        "deno task demo --provider aws is not supported: create the cluster with deno task bootstrap:aws (it needs --api-cidr and AWS credentials), then run deno task demo --context aws-<name>",
    },
  },
} as const satisfies Partial<Record<ProviderId, ProviderEntry>>;

export type RegisteredProvider = keyof typeof PROVIDERS;

/** The registered ids, for `--provider` choices. */
export const PROVIDER_IDS = Object.keys(PROVIDERS) as RegisteredProvider[];

/** The registry entry of a provider. */
export function providerEntry(id: RegisteredProvider): ProviderEntry {
  return PROVIDERS[id] as ProviderEntry;
}

/**
 * Several flag specs as one (for help and a first parse): a flag defined by several keeps the
 * first definition, without a default when their defaults differ. With `labels` (one per spec),
 * each flag's help says whose it is: `Number of simulated nodes (--provider sim)`.
 */
export function mergeFlagSpecs(specs: readonly FlagSpec[], labels?: readonly string[]): FlagSpec {
  const out: FlagSpec = {};
  const owners = new Map<string, string[]>();
  const defaults = new Map<string, Set<unknown>>();
  specs.forEach((spec, i) => {
    for (const [name, def] of Object.entries(spec)) {
      out[name] ??= def;
      owners.set(name, [...(owners.get(name) ?? []), labels?.[i] ?? ""]);
      defaults.set(name, (defaults.get(name) ?? new Set()).add(def.default));
    }
  });
  for (const [name, def] of Object.entries(out)) {
    const by = owners.get(name)!.filter(Boolean);
    const notes = [
      ...(by.length ? [by.join(", ")] : []),
      ...(defaults.get(name)!.size > 1 ? ["default by provider"] : []),
    ];
    if (!notes.length) continue;
    const { default: _d, defaultLabel: _l, ...rest } = def;
    out[name] = {
      ...(defaults.get(name)!.size > 1 ? rest : def),
      description: `${def.description} (${notes.join("; ")})`,
    };
  }
  return out;
}

/** The flags of `spec` that appear in `args` (`--name`, `--name=x`), in the order given. */
export function givenFlags(args: readonly string[], spec: FlagSpec): string[] {
  const names = new Set(Object.keys(spec));
  const seen: string[] = [];
  for (const a of args) {
    const m = /^--([^=]+)/.exec(a);
    if (m && names.has(m[1]!) && !seen.includes(m[1]!)) seen.push(m[1]!);
  }
  return seen;
}

/**
 * Refuses flags that belong to other providers than `id` (`--region` with `--provider sim`) in
 * one line; `own` are the flags `id` takes, `others` every provider's.
 */
export function refuseForeignFlags(
  args: readonly string[],
  id: RegisteredProvider,
  own: FlagSpec,
  flagsOf: (entry: ProviderEntry) => FlagSpec,
): void {
  for (const other of PROVIDER_IDS) {
    if (other === id) continue;
    const foreign = givenFlags(args, flagsOf(providerEntry(other))).filter((f) => !(f in own));
    if (foreign.length) {
      throw new UsageError(
        `--${foreign[0]} is a flag of --provider ${other}, not of --provider ${id}: drop it`,
      );
    }
  }
}
