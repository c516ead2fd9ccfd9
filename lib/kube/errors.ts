/**
 * Why a request to a Kubernetes API server failed, in one place: the error answers of the server
 * ({@link KubeApiError}, from the status code and the Status body) and the failures before any
 * answer (connection refused, unknown host, timeout, TLS, a credential plugin that failed), each
 * turned into a few words a user can act on ({@link kubeProblem}).
 */
import { CncfdemoError, errorMessage } from "../errors.ts";

/** An error answer of the API server, with its HTTP status and reason. */
export class KubeApiError extends CncfdemoError {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string,
    readonly causes: { field?: string; message?: string }[] = [],
  ) {
    super(message);
  }
}

/** What kind of failure a request met. */
export type KubeProblemKind =
  | "unauthorized"
  | "forbidden"
  | "not-found"
  | "conflict"
  | "invalid"
  | "unavailable"
  | "refused"
  | "host-not-found"
  | "timeout"
  | "tls"
  | "credentials"
  | "other";

export interface KubeProblem {
  kind: KubeProblemKind;
  /** A few words, e.g. "connection refused" or "unauthorized: the credentials were refused". */
  text: string;
}

/** The text of an error and its causes (and their `code`s), for matching. */
function chainText(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur; i++) {
    const code = (cur as { code?: unknown }).code;
    const msg = errorMessage(cur);
    parts.push(typeof code === "string" ? `${code} ${msg}` : msg);
    cur = (cur as { cause?: unknown }).cause;
  }
  return parts.join(" ");
}

/** client-node's ApiException: `HTTP-Code: N` message, numeric `code`, the answer's `body`. */
function isApiException(err: unknown): err is Error & { code: number; body?: unknown } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "number" &&
    /^HTTP-Code: \d+/.test(err.message);
}

/**
 * Any error of a request as one of ours: a client-node ApiException becomes a
 * {@link KubeApiError} with the Status's message, a failure before an answer a one-line
 * {@link CncfdemoError} naming the server; ours pass through.
 */
export function asKubeError(err: unknown, server: string): unknown {
  if (err instanceof CncfdemoError) return err;
  if (isApiException(err)) {
    let body = err.body as
      | {
        message?: string;
        reason?: string;
        details?: { causes?: { field?: string; message?: string }[] };
      }
      | string
      | undefined;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        body = { message: (body as string).slice(0, 200) };
      }
    }
    const status = typeof body === "object" ? body : undefined;
    return new KubeApiError(
      status?.message || BY_STATUS[err.code]?.text || `HTTP ${err.code}`,
      err.code,
      status?.reason ?? String(err.code),
      status?.details?.causes ?? [],
    );
  }
  return new CncfdemoError(
    `Cannot reach the Kubernetes API server at ${server}: ${kubeProblem(err).text}`,
    { cause: err },
  );
}

/** The HTTP status of an API error: ours, or client-node's ApiException (`code`). */
function statusOf(err: unknown): number | undefined {
  if (err instanceof KubeApiError) return err.status;
  return isApiException(err) ? err.code : undefined;
}

const BY_STATUS: Record<number, KubeProblem> = {
  401: {
    kind: "unauthorized",
    text:
      "unauthorized: the API server refused the credentials (token, client certificate or exec plugin) of the context",
  },
  403: { kind: "forbidden", text: "forbidden: the user of the context may not do this" },
  404: { kind: "not-found", text: "not found" },
  409: { kind: "conflict", text: "conflict" },
  422: { kind: "invalid", text: "invalid" },
  503: { kind: "unavailable", text: "service unavailable" },
};

/** Classifies any error met while talking to an API server. */
export function kubeProblem(err: unknown): KubeProblem {
  const status = statusOf(err);
  if (status !== undefined) {
    const known = BY_STATUS[status];
    const detail = err instanceof KubeApiError ? err.message : "";
    if (known && (status === 401 || status === 403)) {
      return { kind: known.kind, text: detail ? `${known.text} (${detail})` : known.text };
    }
    return known
      ? { kind: known.kind, text: detail || known.text }
      : { kind: "other", text: detail || `HTTP ${status}` };
  }
  if (err instanceof CredentialError) return { kind: "credentials", text: err.message };
  const text = chainText(err);
  if (/ECONNREFUSED|Connection refused|os error 111/i.test(text)) {
    return { kind: "refused", text: "connection refused" };
  }
  if (/ENOTFOUND|EAI_AGAIN|failed to lookup|Name or service not known/i.test(text)) {
    return { kind: "host-not-found", text: "host not found" };
  }
  if (/timed out|ETIMEDOUT|deadline/i.test(text)) {
    return { kind: "timeout", text: "no answer (timed out)" };
  }
  if (/certificate|tls|ssl/i.test(text)) {
    return { kind: "tls", text: `TLS problem: ${errorMessage(err)}` };
  }
  if (/\b401\b|Unauthorized/.test(text)) return BY_STATUS[401]!;
  if (/\b403\b|Forbidden/.test(text)) return BY_STATUS[403]!;
  return { kind: "other", text: errorMessage(err) };
}

/** Why a request to the API server failed, in a few words. */
export function connectionProblem(err: unknown): string {
  return kubeProblem(err).text;
}

/** The credentials of a context could not be produced (an exec plugin failed, a token file is missing). */
export class CredentialError extends CncfdemoError {}
