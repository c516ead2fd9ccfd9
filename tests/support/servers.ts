/**
 * Real servers for the tests, on 127.0.0.1 free ports: Debian's nginx (a temporary prefix and
 * config), prometheus-pushgateway and prometheus. Each `stop()`s in the test's finally.
 */
import { pollUntil } from "../../lib/wait.ts";

export interface Server {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A port nothing listens on right now. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The probe answers 2xx (a starting Prometheus answers /-/ready with 503 until it is ready). */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export async function startServer(
  cmd: string,
  args: string[],
  url: string,
  probe: string,
  cleanup: () => Promise<void> = async () => {},
): Promise<Server> {
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "piped" })
    .spawn();
  // Drain stderr all the time (a server that logs a lot would block on a full pipe), keeping the
  // tail for error messages.
  let tail = "";
  const draining = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      tail = (tail + chunk).slice(-2_000);
    }
  })().catch(() => {});
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    await status;
    await draining;
    await cleanup();
  };
  try {
    await pollUntil(
      async () =>
        exited
          ? Promise.reject(new Error(`${cmd} exited: ${tail.trim().split("\n").at(-1)}`))
          : await answers(probe),
      {
        timeoutMs: 15_000,
        describe: () => `${cmd} did not answer at ${probe}`,
      },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port: Number(new URL(url).port), stop };
}

/** nginx (`workers` worker processes) serving `GET /` → 200 "hello", anything else → 404. */
export async function startNginx(workers = 2): Promise<Server> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-nginx-" });
  const conf = `worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = / { default_type text/plain; return 200 "hello\\n"; }
    location / { return 404; }
  }
}
`;
  await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
  const url = `http://127.0.0.1:${port}/`;
  return await startServer(
    "nginx",
    ["-c", `${dir}/nginx.conf`, "-p", dir, "-e", `${dir}/error.log`],
    url,
    url,
    () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  );
}

/**
 * Debian's prometheus-pushgateway with its own persistence file in a temporary directory (Debian's
 * build defaults to /var/lib/prometheus/pushgateway.data, which every run would share).
 */
export async function startPushgateway(): Promise<Server> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-pushgateway-" });
  const url = `http://127.0.0.1:${port}`;
  return await startServer(
    "prometheus-pushgateway",
    [`--web.listen-address=127.0.0.1:${port}`, `--persistence.file=${dir}/pushgateway.data`],
    url,
    `${url}/-/ready`,
    () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  );
}

/** Debian's prometheus with the given configuration, its TSDB in a temporary directory. */
export async function startPrometheus(config: string): Promise<Server> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-prometheus-" });
  await Deno.writeTextFile(`${dir}/prometheus.yml`, config);
  const url = `http://127.0.0.1:${port}`;
  return await startServer(
    "prometheus",
    [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    url,
    `${url}/-/ready`,
    () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  );
}
