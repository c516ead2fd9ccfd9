/**
 * What the actions of bootstrap:aws share to converge resources and report it: a tally of what
 * was created or updated ("exists" when nothing), JSON compared regardless of key order, and the
 * IAM "no such entity" check.
 */
import { awsErrorName } from "../aws_error.ts";

/** Summarises what an action did: "exists", "created 2", "created 1, updated 1". */
export class Tally {
  created = 0;
  updated = 0;
  toString(): string {
    const parts = [];
    if (this.created) parts.push(`created ${this.created}`);
    if (this.updated) parts.push(`updated ${this.updated}`);
    return parts.length ? parts.join(", ") : "exists";
  }
}

/** True for IAM's "not found" errors. */
export function isNoSuchEntity(err: unknown): boolean {
  const name = awsErrorName(err);
  return name === "NoSuchEntity" || name === "NoSuchEntityException";
}

/** The same JSON documents, whatever the order of their keys. */
export function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(sortKeys(JSON.parse(a))) === JSON.stringify(sortKeys(JSON.parse(b)));
  } catch {
    return a === b;
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map((
        [k, x],
      ) => [k, sortKeys(x)]),
    );
  }
  return v;
}
