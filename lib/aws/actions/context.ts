/**
 * What every action of `bootstrap:aws` works on (kind's shape: a provider is a list of named
 * actions over one typed context): the options, the SDK clients, the cluster's names in its
 * region, the task's one deadline, and the facts the actions find and hand to each other. A fact
 * read before the action that finds it ran is an internal error naming it, never `undefined`.
 */
import type { AwsClients } from "../clients.ts";
import { type ClusterNames, clusterNames, clusterTags, globalTags, type Role } from "../names.ts";
import type { StepContext } from "../../steps.ts";
import type { Deadline } from "../../wait.ts";

export interface AwsCreateOptions {
  name: string;
  clients: AwsClients;
  masters: number;
  minions: number;
  instanceType: string;
  /** The node image; default: the newest image baked by `deno task bake` in the region. */
  imageId?: string | undefined;
  /** Who may reach the API server (port 6443). */
  apiCidr: string;
  /** Who may reach SSH (port 22); closed when undefined. */
  sshCidr?: string | undefined;
  /** Wait for the cluster and merge the kube context (false: stop after the Auto Scaling groups). */
  wait: boolean;
  /** The task's one deadline, shared by every wait. */
  deadline: Deadline;
  kubeconfig: string;
  /** Test hook: throw right after the step of this name succeeded. */
  failAfterStep?: string | undefined;
  /**
   * Once the API server answers, apply and wait for the cluster add-ons (lib/aws/addons.ts);
   * default true. Off only where a test stands in for the API server with its /readyz alone.
   */
  addons?: boolean | undefined;
}

/** What the actions find or make, each set by one action and read by later ones. */
export interface Facts {
  account: string;
  partition: string;
  /** The two availability zones the subnets go in. */
  zones: string[];
  imageId: string;
  vpcId: string;
  subnetIds: string[];
  igwId: string;
  sg: Record<Role, string>;
  zoneId: string;
  profileArn: Record<Role, string>;
  roleArn: Record<Role | "lambda", string>;
  caCert: string;
  caKey: string;
  caCertHash: string;
  token: string;
  allocationId: string;
  publicIp: string;
  launchTemplateId: Record<Role, string>;
  functionArn: string;
  /** The admin kubeconfig the master published. */
  adminConf: string;
}

/** A fact read before it was found: a bug in the order of the actions. */
export class MissingFact extends Error {
  constructor(key: string) {
    super(
      `internal error: bootstrap:aws read "${key}" before the action that finds it ran (check the order in lib/aws/bootstrap.ts)`,
    );
    this.name = "MissingFact";
  }
}

/** What a bootstrap leaves for the caller: the server URL and context, once known. */
export interface BootstrapInfo {
  server?: string;
  context?: string;
}

export class AwsContext {
  readonly aws: AwsClients;
  readonly region: string;
  readonly names: ClusterNames;
  readonly deadline: Deadline;
  /** Found so far; read with {@link need}. */
  readonly facts: Partial<Facts> = {};

  constructor(readonly options: AwsCreateOptions, readonly info: BootstrapInfo = {}) {
    this.aws = options.clients;
    this.region = options.clients.region;
    this.names = clusterNames(options.name, this.region);
    this.deadline = options.deadline;
  }

  /** The fact `key`; throws {@link MissingFact} when no action has found it yet. */
  need<K extends keyof Facts>(key: K): Facts[K] {
    const value = this.facts[key];
    if (value === undefined) throw new MissingFact(key);
    return value as Facts[K];
  }

  /** Tags of a regional resource: the cluster tag and extras. */
  tags(extra: Record<string, string> = {}): { Key: string; Value: string }[] {
    return clusterTags(this.options.name, extra);
  }

  /** Tags of a global resource (IAM, Route 53): the cluster, its region and extras. */
  globalTags(extra: Record<string, string> = {}): { Key: string; Value: string }[] {
    return globalTags(this.names, extra);
  }
}

/** One named action of bootstrap:aws; returns the detail of its end line. */
export interface AwsAction {
  /** The step name (a function when it names a resource). */
  readonly name: string | ((ctx: AwsContext) => string);
  /** What it does, for one-line errors: "create the VPC". */
  readonly doing: string;
  run(ctx: AwsContext, step: StepContext): Promise<string>;
}
