import assert from "node:assert/strict";
import { CncfdemoError } from "../errors.ts";
import { CredentialError, KubeApiError, kubeProblem } from "./errors.ts";

Deno.test("kube errors: API answers are classified by status", () => {
  const cases: [unknown, string][] = [
    [new KubeApiError("Unauthorized", 401, "Unauthorized"), "unauthorized"],
    [new KubeApiError("pods is forbidden: User x", 403, "Forbidden"), "forbidden"],
    [new KubeApiError("not found", 404, "NotFound"), "not-found"],
    [new KubeApiError("the object has been modified", 409, "Conflict"), "conflict"],
    [new KubeApiError("unknown field spec.x", 422, "Invalid"), "invalid"],
    [new KubeApiError("no endpoints available", 503, "ServiceUnavailable"), "unavailable"],
    [new KubeApiError("teapot", 418, "418"), "other"],
    // client-node's ApiException: a numeric code and this message shape
    [
      Object.assign(new Error("HTTP-Code: 401\nMessage: Unknown API Status Code!"), { code: 401 }),
      "unauthorized",
    ],
  ];
  for (const [err, kind] of cases) assert.equal(kubeProblem(err).kind, kind, String(err));
  assert.match(
    kubeProblem(cases[0]![0]).text,
    /^unauthorized: the API server refused the credentials/,
  );
  assert.match(kubeProblem(cases[1]![0]).text, /^forbidden: .*\(pods is forbidden: User x\)$/);
  assert.equal(kubeProblem(cases[4]![0]).text, "unknown field spec.x");
});

Deno.test("kube errors: failures before an answer are named in a few words", () => {
  const wrapped = (msg: string, code?: string) =>
    new TypeError("error sending request", { cause: Object.assign(new Error(msg), { code }) });
  const cases: [unknown, string, string][] = [
    [
      wrapped("tcp connect error: Connection refused (os error 111)"),
      "refused",
      "connection refused",
    ],
    [wrapped("connect", "ECONNREFUSED"), "refused", "connection refused"],
    [
      wrapped("dns error: failed to lookup address information"),
      "host-not-found",
      "host not found",
    ],
    [new CncfdemoError("timed out"), "timeout", "no answer (timed out)"],
    [
      wrapped("invalid peer certificate: UnknownIssuer"),
      "tls",
      "TLS problem: error sending request",
    ],
    [
      new CredentialError("Cannot get credentials: plugin failed"),
      "credentials",
      "Cannot get credentials: plugin failed",
    ],
    [new Error("something else"), "other", "something else"],
  ];
  for (const [err, kind, text] of cases) {
    assert.deepEqual(kubeProblem(err), { kind, text }, String(err));
  }
});
