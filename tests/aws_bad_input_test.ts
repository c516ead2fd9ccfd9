/**
 * Bad input to bootstrap:aws and teardown --provider aws: each case is one line on stderr, a
 * non-zero exit, and nothing created in the (moto) account.
 */
import assert from "node:assert/strict";
import { census, empty } from "./support/aws_census.ts";
import { sandbox } from "./support/env.ts";
import { moto } from "./support/moto.ts";
import { freePort } from "./support/servers.ts";

/** A port nothing listens on. */
const closedPort = freePort;

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  code: number;
  error: RegExp;
  task?: string;
}

const ok = ["--api-cidr", "198.51.100.7/32", "--no-wait"];

const cases: Case[] = [
  {
    name: "unknown --region",
    args: [...ok, "--region", "us-east-7"],
    code: 2,
    error: /^error: Cannot parse --region "us-east-7": expected a known AWS region like us-east-1$/,
  },
  {
    name: "unknown region from AWS_REGION",
    args: ok,
    env: { AWS_REGION: "mars-north-1" },
    code: 2,
    error: /^error: Unknown AWS region "mars-north-1" \(from AWS_REGION or the profile\)/,
  },
  {
    name: "no region at all",
    args: ok,
    env: { AWS_REGION: "", AWS_DEFAULT_REGION: "" },
    code: 2,
    error: /^error: No AWS region: pass --region, or set AWS_REGION/,
  },
  {
    name: "missing credentials",
    args: ok,
    env: { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" },
    code: 1,
    error:
      /^error: No AWS credentials found: set AWS_PROFILE .* or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY$/,
  },
  {
    name: "unreachable endpoint",
    args: ok,
    env: { AWS_ENDPOINT_URL: `http://127.0.0.1:${closedPort()}` },
    code: 1,
    error:
      /^error: Cannot reach http:\/\/127\.0\.0\.1:\d+ \(.*\) to check the AWS credentials: check the network, AWS_ENDPOINT_URL and --region$/,
  },
  {
    name: "--minions -1",
    args: [...ok, "--minions", "-1"],
    code: 2,
    error: /^error: Cannot parse --minions "-1": expected a whole number from 0 to 200$/,
  },
  {
    name: "--api-cidr 300.1.1.1/8",
    args: ["--api-cidr", "300.1.1.1/8", "--no-wait"],
    code: 2,
    error:
      /^error: Cannot parse --api-cidr "300.1.1.1\/8": expected an IPv4 CIDR like 203.0.113.0\/24$/,
  },
  {
    name: "--api-cidr with host bits",
    args: ["--api-cidr", "10.1.2.3/8", "--no-wait"],
    code: 2,
    error: /^error: Cannot parse --api-cidr "10.1.2.3\/8": expected an IPv4 CIDR/,
  },
  {
    name: "missing --api-cidr",
    args: ["--no-wait"],
    code: 2,
    error: /^error: Missing --api-cidr: say who may reach the API server/,
  },
  {
    name: "--masters 3",
    args: [...ok, "--masters", "3"],
    code: 2,
    error: /^error: Cannot parse --masters "3": expected a whole number from 1 to 1$/,
  },
  {
    name: "bad --image-id",
    args: [...ok, "--image-id", "ubuntu"],
    code: 2,
    error:
      /^error: Cannot parse --image-id "ubuntu": expected an AMI id like ami-0123456789abcdef0$/,
  },
  {
    name: "bad cluster name",
    args: [...ok, "--name", "Bad_Name"],
    code: 2,
    error: /^error: Cannot parse --name "Bad_Name"/,
  },
  {
    name: "teardown: unknown region",
    task: "teardown.ts",
    args: ["--provider", "aws", "--region", "eu-middle-9"],
    code: 2,
    error:
      /^error: Cannot parse --region "eu-middle-9": expected a known AWS region like us-east-1$/,
  },
  {
    name: "teardown: missing credentials",
    task: "teardown.ts",
    args: ["--provider", "aws"],
    env: { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" },
    code: 1,
    error: /^error: No AWS credentials found/,
  },
];

Deno.test("bad input: one-line errors, non-zero exits, nothing created", async (t) => {
  const m = await moto();
  await m.reset();
  const sb = await sandbox({ env: m.env });
  try {
    for (const c of cases) {
      await t.step(c.name, async () => {
        const r = await sb.task(c.task ?? "bootstrap_aws.ts", c.args, c.env ?? {});
        const lines = r.stderr.trim().split("\n");
        assert.equal(r.code, c.code, r.stderr);
        assert.equal(lines.length, 1, `more than one line:\n${r.stderr}`);
        assert.match(lines[0]!, c.error);
        assert.equal(r.stdout, "");
      });
    }
    assert.deepEqual(await census(m.clients()), empty());
  } finally {
    await sb.cleanup();
  }
});

Deno.test("--dry-run prints the plan and makes no AWS call", async () => {
  const m = await moto();
  await m.reset();
  const sb = await sandbox({
    env: { ...m.env, AWS_ENDPOINT_URL: `http://127.0.0.1:${closedPort()}` },
  });
  try {
    const r = await sb.task("bootstrap_aws.ts", [
      "--api-cidr",
      "198.51.100.7/32",
      "--dry-run",
      "--minions",
      "5",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Plan for cluster "cncfdemo" in us-east-1/);
    assert.match(r.stdout, /6443 from 198\.51\.100\.7\/32.*SSH closed/);
    assert.match(r.stdout, /cncfdemo-cncfdemo-minions \(5 instances\)/);
    assert.match(
      r.stdout,
      /then apply the add-ons: kubelet-csr-approver .*metrics-server, the EBS CSI driver and the default StorageClass ebs-gp3/,
    );
    assert.deepEqual(await census(m.clients()), empty());
  } finally {
    await sb.cleanup();
  }
});
