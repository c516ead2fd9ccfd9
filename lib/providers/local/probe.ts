/**
 * Health probes of the node's components over HTTPS, verified against the cluster's CA (and with a
 * client certificate where the endpoint wants one): never an insecure skip.
 */
export interface ProbeTls {
  /** PEM files. */
  ca: string;
  cert?: string;
  key?: string;
}

const clients = new Map<string, Deno.HttpClient>();

async function clientFor(tls: ProbeTls): Promise<Deno.HttpClient> {
  const key = `${tls.ca}|${tls.cert ?? ""}|${tls.key ?? ""}`;
  let c = clients.get(key);
  if (!c) {
    c = Deno.createHttpClient({
      caCerts: [await Deno.readTextFile(tls.ca)],
      ...(tls.cert && tls.key
        ? { cert: await Deno.readTextFile(tls.cert), key: await Deno.readTextFile(tls.key) }
        : {}),
    });
    clients.set(key, c);
  }
  return c;
}

/** Whether `url` answers 2xx within 2 s (TLS verified with `tls` for https URLs). */
export async function probeOk(url: string, tls?: ProbeTls): Promise<boolean> {
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(2_000),
      ...(tls ? { client: await clientFor(tls) } : {}),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** Releases the probes' HTTP clients (so a task can end). */
export function closeProbes(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}
