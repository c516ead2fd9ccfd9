/**
 * AWS SDK clients for one region, configured the standard way (credential chain, `AWS_PROFILE`,
 * `AWS_REGION`, `AWS_ENDPOINT_URL`), each with a middleware that counts API requests per operation
 * (retries included) so tasks can report how many calls they made.
 *
 * @example
 * const aws = awsClients({ region: "eu-west-1" });
 * await aws.ec2.send(new DescribeVpcsCommand({}));
 * aws.calls.total; // 1
 */
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingClient } from "@aws-sdk/client-elastic-load-balancing";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { Route53Client } from "@aws-sdk/client-route-53";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";

/** API requests made, by `Service.Operation`. */
export class ApiCalls {
  readonly byOperation = new Map<string, number>();

  add(service: string, operation: string): void {
    const key = `${service}.${operation}`;
    this.byOperation.set(key, (this.byOperation.get(key) ?? 0) + 1);
  }

  get total(): number {
    let n = 0;
    for (const v of this.byOperation.values()) n += v;
    return n;
  }

  /** `57 AWS API calls (EC2 30, IAM 12, …)`. */
  summary(): string {
    const perService = new Map<string, number>();
    for (const [k, v] of this.byOperation) {
      const s = k.split(".")[0]!;
      perService.set(s, (perService.get(s) ?? 0) + v);
    }
    const parts = [...perService].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s} ${n}`);
    return `${this.total} AWS API calls${parts.length ? ` (${parts.join(", ")})` : ""}`;
  }

  /** One line per operation, most frequent first. */
  details(): string[] {
    return [...this.byOperation].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map((
      [k, v],
    ) => `${k} ${v}`);
  }
}

export interface AwsOptions {
  region: string;
  /** Overrides AWS_ENDPOINT_URL (tests). */
  endpoint?: string | undefined;
  /** Overrides the credential chain (tests). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  calls?: ApiCalls;
}

export interface AwsClients {
  region: string;
  calls: ApiCalls;
  asg: AutoScalingClient;
  ec2: EC2Client;
  elb: ElasticLoadBalancingClient;
  elbv2: ElasticLoadBalancingV2Client;
  events: EventBridgeClient;
  iam: IAMClient;
  lambda: LambdaClient;
  logs: CloudWatchLogsClient;
  route53: Route53Client;
  ssm: SSMClient;
  sts: STSClient;
}

interface Countable {
  middlewareStack: {
    // deno-lint-ignore no-explicit-any
    add(mw: any, opts: { step: string; priority?: string; name?: string }): void;
  };
}

function counted<C extends Countable>(client: C, service: string, calls: ApiCalls): C {
  client.middlewareStack.add(
    // deno-lint-ignore no-explicit-any
    (next: (a: unknown) => Promise<unknown>, context: any) => (args: unknown) => {
      calls.add(service, String(context.commandName ?? "unknown").replace(/Command$/, ""));
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "cncfdemoCountCalls" },
  );
  return client;
}

/** Clients for every service cncfdemo uses on AWS, sharing one call counter. */
export function awsClients(options: AwsOptions): AwsClients {
  const calls = options.calls ?? new ApiCalls();
  const config = {
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 3,
  };
  return {
    region: options.region,
    calls,
    asg: counted(new AutoScalingClient(config), "AutoScaling", calls),
    ec2: counted(new EC2Client(config), "EC2", calls),
    elb: counted(new ElasticLoadBalancingClient(config), "ELB", calls),
    elbv2: counted(new ElasticLoadBalancingV2Client(config), "ELBv2", calls),
    events: counted(new EventBridgeClient(config), "EventBridge", calls),
    iam: counted(new IAMClient(config), "IAM", calls),
    lambda: counted(new LambdaClient(config), "Lambda", calls),
    logs: counted(new CloudWatchLogsClient(config), "Logs", calls),
    route53: counted(new Route53Client(config), "Route53", calls),
    ssm: counted(new SSMClient(config), "SSM", calls),
    sts: counted(new STSClient(config), "STS", calls),
  };
}

/** The region from `--region`, else the SDK's (AWS_REGION, AWS_DEFAULT_REGION, the profile). */
export async function configuredRegion(flagValue?: string): Promise<string | undefined> {
  if (flagValue) return flagValue;
  const env = Deno.env.get("AWS_REGION") || Deno.env.get("AWS_DEFAULT_REGION");
  if (env) return env;
  try {
    const region = await new STSClient({}).config.region();
    return region || undefined;
  } catch {
    return undefined;
  }
}
