/**
 * bootstrap:aws's waits, end to end against moto: while the steps wait, the test plays the parts
 * AWS and the master play in a real cluster — EventBridge invokes the DNS Lambda for the masters'
 * group, and the master (real kubeadm, with the CA and the kubeadm configuration bootstrap:aws
 * stored in SSM) makes the API server certificate and admin.conf, publishes admin.conf, and serves
 * /readyz on the Elastic IP (moto hands out 127.0.0.0/8 addresses). The context aws-<name> must
 * end up in the kubeconfig, pointed at the Elastic IP, verified against the cluster CA.
 */
import assert from "node:assert/strict";
import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeAddressesCommand } from "@aws-sdk/client-ec2";
import { GetFunctionCommand } from "@aws-sdk/client-lambda";
import { GetParametersCommand, PutParameterCommand } from "@aws-sdk/client-ssm";
import { parse } from "yaml";
import { configFromEnv, handleEvent } from "../lambda/dns.ts";
import { awsBootstrapSteps } from "../lib/aws/bootstrap.ts";
import { clusterNames } from "../lib/aws/names.ts";
import { resolveBinaries } from "../lib/binaries.ts";
import { run } from "../lib/run_program.ts";
import { runSteps } from "../lib/steps.ts";
import { deadline, pollUntil } from "../lib/wait.ts";
import { moto, TEST_REGION } from "./support/moto.ts";

const NAME = "waits";

Deno.test("bootstrap:aws waits for the masters' record, the published kubeconfig and /readyz, then merges aws-<name>", async () => {
  const m = await moto();
  await m.reset();
  const aws = m.clients();
  const n = clusterNames(NAME, TEST_REGION);
  const { paths } = await resolveBinaries(["kubeadm"]);
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-wait-" });
  const kubeconfig = `${dir}/kubeconfig`;
  let server: Deno.HttpServer | undefined;
  try {
    const bootstrap = runSteps(
      awsBootstrapSteps({
        name: NAME,
        clients: m.clients(),
        masters: 1,
        minions: 1,
        instanceType: "t3.medium",
        imageId: await m.image(),
        apiCidr: "127.0.0.0/8",
        wait: true,
        deadline: deadline(60_000),
        kubeconfig,
        // the stand-in master serves /readyz only: the add-ons are tested against a real API
        // server in tests/aws_addons_test.ts
        addons: false,
      }),
      { write: () => {}, summary: false, interactive: false },
    );

    // EventBridge: the masters' instance is InService → the DNS Lambda runs.
    await pollUntil(async () => {
      const g = await aws.asg.send(
        new DescribeAutoScalingGroupsCommand({
          AutoScalingGroupNames: [n.group.masters],
        }),
      );
      return g.AutoScalingGroups?.[0]?.Instances?.some((i) => i.LifecycleState === "InService");
    }, { timeoutMs: 60_000, describe: () => "no InService master" });
    const fn = await aws.lambda.send(new GetFunctionCommand({ FunctionName: n.function }));
    const [rec] = await handleEvent(
      { detail: { AutoScalingGroupName: n.group.masters } },
      configFromEnv(fn.Configuration!.Environment!.Variables!),
      aws,
    );
    assert.equal(rec!.record, `masters.${NAME}.k8s.`);

    // The master: kubeadm makes the serving certificate and admin.conf from what SSM holds.
    const params = await aws.ssm.send(
      new GetParametersCommand({
        Names: [n.param.caCert, n.param.caKey, n.param.kubeadmInit],
        WithDecryption: true,
      }),
    );
    const value = (name: string) => params.Parameters!.find((p) => p.Name === name)!.Value!;
    await Deno.writeTextFile(`${dir}/ca.crt`, value(n.param.caCert));
    await Deno.writeTextFile(`${dir}/ca.key`, value(n.param.caKey));
    await Deno.writeTextFile(
      `${dir}/init.yaml`,
      value(n.param.kubeadmInit).replace(
        "kind: ClusterConfiguration\n",
        `kind: ClusterConfiguration\ncertificatesDir: ${dir}\n`,
      ),
    );
    await run(paths.kubeadm, [
      "init",
      "phase",
      "certs",
      "apiserver",
      "--config",
      `${dir}/init.yaml`,
    ]);
    await run(paths.kubeadm, [
      "init",
      "phase",
      "kubeconfig",
      "admin",
      "--config",
      `${dir}/init.yaml`,
      "--kubeconfig-dir",
      dir,
    ]);
    const addr = await aws.ec2.send(
      new DescribeAddressesCommand({
        Filters: [{ Name: "tag:KubernetesCluster", Values: [NAME] }],
      }),
    );
    const ip = addr.Addresses![0]!.PublicIp!;
    assert.match(ip, /^127\./, "moto's Elastic IPs are loopback addresses");
    server = Deno.serve(
      {
        hostname: ip,
        port: 6443,
        cert: await Deno.readTextFile(`${dir}/apiserver.crt`),
        key: await Deno.readTextFile(`${dir}/apiserver.key`),
        onListen: () => {},
      },
      (req) =>
        new URL(req.url).pathname === "/readyz"
          ? new Response("ok")
          : new Response("not found", { status: 404 }),
    );
    await aws.ssm.send(
      new PutParameterCommand({
        Name: n.param.adminConf,
        Type: "SecureString",
        Tier: "Advanced",
        Value: await Deno.readTextFile(`${dir}/admin.conf`),
      }),
    );

    await bootstrap;
    const doc = parse(await Deno.readTextFile(kubeconfig));
    assert.equal(doc["current-context"], `aws-${NAME}`);
    const cluster = doc.clusters.find((c: { name: string }) => c.name === `aws-${NAME}`).cluster;
    assert.equal(cluster.server, `https://${ip}:6443`);
    assert.equal(atob(cluster["certificate-authority-data"]), value(n.param.caCert));
    const user = doc.users.find((u: { name: string }) => u.name === `aws-${NAME}`).user;
    assert.ok(user["client-certificate-data"] && user["client-key-data"]);
  } finally {
    await server?.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
