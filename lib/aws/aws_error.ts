/**
 * Turns AWS SDK failures into one-line {@link CncfdemoError}s that say what is wrong and what to
 * do: missing or rejected credentials, an unreachable endpoint, a denied permission, or the
 * service's own error code and message.
 */
import { CncfdemoError } from "../errors.ts";
import { type Step, step } from "../steps.ts";

interface SdkErrorLike {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const NETWORK_CODES = [
  "ECONNREFUSED",
  "ENOTFOUND",
  "ETIMEDOUT",
  "ECONNRESET",
  "EAI_AGAIN",
  "EHOSTUNREACH",
];

function networkCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur; i++) {
    const e = cur as SdkErrorLike;
    const text = `${e.code ?? ""} ${e.name ?? ""} ${e.message ?? ""}`;
    const hit = NETWORK_CODES.find((c) => text.includes(c));
    if (hit) return hit;
    if (/connection refused|error sending request|dns error|tcp connect/i.test(text)) {
      return "connection refused";
    }
    cur = e.cause;
  }
  return undefined;
}

/** The endpoint the SDK talks to, for messages. */
export function endpointLabel(region: string): string {
  return Deno.env.get("AWS_ENDPOINT_URL") ?? `the AWS endpoints of ${region}`;
}

/** The error name of an AWS SDK error (`DependencyViolation`, `NoSuchEntity`), or undefined. */
export function awsErrorName(err: unknown): string | undefined {
  const e = err as SdkErrorLike | undefined;
  return e?.name ?? e?.code;
}

/**
 * A one-line CncfdemoError for `err`, raised while `doing` (e.g. "create the VPC"). CncfdemoErrors
 * pass through unchanged.
 */
export function awsFailure(err: unknown, doing: string, region = "the region"): CncfdemoError {
  if (err instanceof CncfdemoError) return err;
  const e = (err ?? {}) as SdkErrorLike;
  const name = awsErrorName(err) ?? "Error";
  const message = (e.message ?? String(err)).replace(/\s*\n\s*/g, " ").trim();
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) {
    return new CncfdemoError(
      "No AWS credentials found: set AWS_PROFILE to a configured profile (aws configure / aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
      { cause: err },
    );
  }
  const net = networkCode(err);
  if (net) {
    return new CncfdemoError(
      `Cannot reach ${
        endpointLabel(region)
      } (${net}) to ${doing}: check the network, AWS_ENDPOINT_URL and --region`,
      { cause: err },
    );
  }
  if (
    [
      "InvalidClientTokenId",
      "UnrecognizedClientException",
      "SignatureDoesNotMatch",
      "ExpiredToken",
      "ExpiredTokenException",
      "InvalidAccessKeyId",
      "AuthFailure",
    ].includes(name)
  ) {
    return new CncfdemoError(
      `AWS rejected the credentials (${name}) to ${doing}: refresh them (aws sso login, or new access keys) or pick another AWS_PROFILE`,
      { cause: err },
    );
  }
  if (/AccessDenied|UnauthorizedOperation/.test(name)) {
    return new CncfdemoError(
      `AWS denied permission to ${doing} (${name}): use credentials allowed to manage EC2, IAM, Route 53, Lambda, EventBridge, SSM and Auto Scaling`,
      { cause: err },
    );
  }
  return new CncfdemoError(`Cannot ${doing}: ${name}: ${message}`, { cause: err });
}

/** A step whose AWS errors become one line saying what it was doing (see {@link awsFailure}). */
export function awsStep(name: string, doing: string, region: string, run: Step["run"]): Step {
  return step(name, async (ctx) => {
    try {
      return await run(ctx);
    } catch (err) {
      throw awsFailure(err, doing, region);
    }
  });
}
