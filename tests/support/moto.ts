/**
 * Test support: a real `moto_server` on 127.0.0.1 (a free port), started once per test module and
 * reset between tests, with SDK clients and a subprocess environment pointed at it. Nothing goes
 * beyond loopback: fake credentials, no shared config files, IMDS disabled.
 */
import { DescribeImagesCommand } from "@aws-sdk/client-ec2";
import { type AwsClients, awsClients } from "../../lib/aws/clients.ts";
import { pollUntil } from "../../lib/wait.ts";
import { freePort } from "./servers.ts";

export const TEST_REGION = "us-east-1";

export interface Moto {
  url: string;
  /** Environment for tasks run as subprocesses. */
  env: Record<string, string>;
  /** Clears every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** SDK clients pointed at moto, with their own call counter (default region TEST_REGION). */
  clients(region?: string): AwsClients;
  /** An AMI that exists in moto (in `region`, default TEST_REGION). */
  image(region?: string): Promise<string>;
  stop(): Promise<void>;
}

let shared: Promise<Moto> | undefined;

/** The module's moto_server (started on first use, stopped when the module unloads). */
export function moto(): Promise<Moto> {
  shared ??= start();
  return shared;
}

async function start(): Promise<Moto> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("moto_server", {
      args: ["-H", "127.0.0.1", "-p", String(port)],
      stdout: "null",
      stderr: "null",
      stdin: "null",
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error("moto_server is not installed: pip install 'moto[server]==5.2.5'");
    }
    throw err;
  }
  child.unref();
  globalThis.addEventListener("unload", () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
  });
  await pollUntil(
    async () => {
      try {
        const res = await fetch(`${url}/moto-api/reset`, { method: "POST" });
        await res.body?.cancel();
        return res.ok;
      } catch {
        return false;
      }
    },
    { timeoutMs: 30_000, describe: () => `moto_server did not answer on ${url}` },
  );
  const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
  const env = {
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SESSION_TOKEN: "",
    AWS_PROFILE: "",
    AWS_REGION: TEST_REGION,
    AWS_DEFAULT_REGION: TEST_REGION,
    AWS_ENDPOINT_URL: url,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/cncfdemo-test/credentials",
    AWS_CONFIG_FILE: "/nonexistent/cncfdemo-test/config",
  };
  const m: Moto = {
    url,
    env,
    async reset() {
      const res = await fetch(`${url}/moto-api/reset`, { method: "POST" });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
    },
    clients(region = TEST_REGION) {
      return awsClients({ region, endpoint: url, credentials });
    },
    async image(region = TEST_REGION) {
      const out = await m.clients(region).ec2.send(
        new DescribeImagesCommand({ Owners: ["amazon"] }),
      );
      const id = out.Images?.[0]?.ImageId;
      if (!id) throw new Error("moto has no AMI");
      return id;
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
    },
  };
  return m;
}
