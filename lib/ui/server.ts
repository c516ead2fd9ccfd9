/**
 * The browser view's HTTP server: 127.0.0.1 only, a free port, a random token that every request
 * must carry (`?token=`; page, stream, assets and data alike — 403 otherwise, also for a Host that
 * is not this address, against DNS rebinding), GET only (no write endpoint), and a Content
 * Security Policy that lets the page reach nothing but this server. Live mode streams a task's
 * events (Server-Sent Events, replayed from the start for a new page, from Last-Event-ID after a
 * reconnect); results mode serves a results directory's records and the report.
 */
import { chartJs } from "../bench/html_report.ts";
import { errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import type { EventBus } from "./event_bus.ts";
import type { Numbered } from "./events.ts";
import { renderPage } from "./page.ts";
import type { ResultsIndex } from "./results_index.ts";

export interface UiServerOptions {
  title: string;
  /** Live mode: the task's events. */
  bus?: EventBus;
  /** Results mode: the directory's records. */
  results?: ResultsIndex;
  /** Time between keep-alive comments on the event stream (default 15 s). */
  keepAliveMs?: number;
}

export interface UiServer {
  /** The page's address, token included. */
  url: string;
  port: number;
  token: string;
  /** Ends every event stream and stops listening. */
  close(): Promise<void>;
}

/** The page: scripts from here only (inline or /assets), data from here only, frames from here. */
const PAGE_CSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; " +
  "style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; " +
  "frame-ancestors 'self'; base-uri 'none'; form-action 'none'";
/** An embedded report (self-contained HTML): its own inline code, nothing fetched. */
const EMBED_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
  "img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** Compares in time independent of where the strings differ. */
function sameToken(given: string | null, token: string): boolean {
  if (given === null || given.length !== token.length) return false;
  let diff = 0;
  for (let i = 0; i < token.length; i++) diff |= given.charCodeAt(i) ^ token.charCodeAt(i);
  return diff === 0;
}

function respond(
  body: BodyInit | null,
  status: number,
  type: string,
  csp = PAGE_CSP,
): Response {
  return new Response(body, {
    status,
    headers: {
      "content-type": type,
      "cache-control": "no-store",
      "content-security-policy": csp,
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
    },
  });
}

const text = (status: number, msg: string) =>
  respond(msg + "\n", status, "text/plain; charset=utf-8");
const json = (v: unknown) => respond(JSON.stringify(v), 200, "application/json");
const html = (body: string, csp = PAGE_CSP) => respond(body, 200, "text/html; charset=utf-8", csp);

/** Starts the server on 127.0.0.1 (a free port). */
export function startUiServer(o: UiServerOptions): UiServer {
  const token = newToken();
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const stops = new Set<() => void>();
  const enc = new TextEncoder();
  let port = 0;

  function eventStream(req: Request, url: URL): Response {
    const bus = o.bus!;
    const last = Number(req.headers.get("last-event-id") ?? url.searchParams.get("after") ?? 0);
    let stop = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        streams.add(c);
        const send = (s: string) => {
          try {
            c.enqueue(enc.encode(s));
          } catch { /* closed */ }
        };
        // The server's clock first, so that the page can count running steps' time.
        send(`retry: 1000\nevent: hello\ndata: ${JSON.stringify({ now: performance.now() })}\n\n`);
        const unsubscribe = bus.subscribe(
          (e: Numbered) => send(`id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`),
          Number.isSafeInteger(last) ? last : 0,
        );
        const ping = setInterval(() => send(": keep-alive\n\n"), o.keepAliveMs ?? 15_000);
        stop = () => {
          unsubscribe();
          clearInterval(ping);
          streams.delete(c);
          stops.delete(stop);
        };
        stops.add(stop);
      },
      cancel() {
        stop();
      },
    });
    return respond(body, 200, "text/event-stream");
  }

  async function route(req: Request, url: URL): Promise<Response> {
    const path = url.pathname;
    if (path === "/") {
      return html(renderPage({ token, title: o.title, mode: o.bus ? "live" : "results" }));
    }
    if (path === "/assets/chart.js") {
      return respond(await chartJs(), 200, "text/javascript; charset=utf-8");
    }
    if (path === "/events" && o.bus) return eventStream(req, url);
    if (o.results) {
      if (path === "/api/records") return json(await o.results.list());
      const file = /^\/api\/record\/([^/]+\.json)$/.exec(path)?.[1];
      if (file) {
        const body = await o.results.file(decodeURIComponent(file));
        return body === undefined
          ? text(404, "No such record")
          : respond(body, 200, "application/json");
      }
      const page = /^\/file\/([^/]+\.html)$/.exec(path)?.[1];
      if (page) {
        const body = await o.results.file(decodeURIComponent(page));
        return body === undefined ? text(404, "No such report") : html(body, EMBED_CSP);
      }
      if (path === "/report") {
        try {
          return html(await o.results.report(), EMBED_CSP);
        } catch (err) {
          const msg = errorMessage(err).replace(/[&<>]/g, (ch) => `&#${ch.charCodeAt(0)};`);
          return html(`<!doctype html><meta charset="utf-8"><p>No report: ${msg}</p>`, EMBED_CSP);
        }
      }
    }
    return text(404, "Not found");
  }

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    const url = new URL(req.url);
    const host = req.headers.get("host");
    if (
      !sameToken(url.searchParams.get("token"), token) ||
      (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`)
    ) {
      return text(
        403,
        "Forbidden: this page needs the address with its token, as the task printed it",
      );
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return text(405, "Read-only: only GET");
    }
    try {
      return await route(req, url);
    } catch (err) {
      log.debug(`ui: ${url.pathname}: ${errorMessage(err)}`);
      return text(500, "Cannot answer: see the task's output");
    }
  });
  port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    async close() {
      for (const c of [...streams]) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      for (const stop of [...stops]) stop();
      await server.shutdown();
    },
  };
}
