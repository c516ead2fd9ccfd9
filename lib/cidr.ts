/**
 * IPv4 CIDR blocks (`--api-cidr`, `--ssh-cidr`, `--pod-cidr`, `--service-cidr`): parsing, a flag builder, the canonical form
 * (host bits must be zero, as AWS security groups require).
 *
 * @example
 * const flags = { "api-cidr": cidrFlag("Who may reach the API server") };
 * parseCidr("203.0.113.7/32"); // { address: "203.0.113.7", prefix: 32, text: "203.0.113.7/32" }
 */
import { flag, type FlagDef } from "./flags.ts";

export interface Cidr {
  address: string;
  prefix: number;
  /** The canonical text, `a.b.c.d/n`. */
  text: string;
}

export const CIDR_EXPECTED = "an IPv4 CIDR like 203.0.113.0/24";

/** Parses `a.b.c.d/n` (a bare address means /32); undefined when it is not a valid IPv4 CIDR. */
export function parseCidr(raw: string): Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(raw.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o, i) => o > 255 || (m[i + 1]!.length > 1 && m[i + 1]!.startsWith("0")))) {
    return undefined;
  }
  const prefix = m[5] === undefined ? 32 : Number(m[5]);
  if (prefix > 32) return undefined;
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (value % size !== 0) return undefined; // host bits set: 10.1.2.3/8 is ambiguous
  const address = octets.join(".");
  return { address, prefix, text: `${address}/${prefix}` };
}

/** A flag holding an IPv4 CIDR block, parsed to its canonical text. */
export function cidrFlag(
  description: string,
  opts: { placeholder?: string } = {},
): FlagDef<string, false> {
  const base = flag.string(description, { placeholder: opts.placeholder ?? "CIDR" });
  return {
    ...base,
    parse: (raw: string) => parseCidr(raw)?.text,
    expected: CIDR_EXPECTED,
  };
}

/** The address as a 32-bit number. */
function toNumber(address: string): number {
  return address.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

function toAddress(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** The first and last address of a block, as numbers. */
function range(c: Cidr): [number, number] {
  const start = toNumber(c.address);
  return [start, start + 2 ** (32 - c.prefix) - 1];
}

/** Whether two blocks share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}

/** The n-th address of the block (1 = the first host); throws when the block is too small. */
export function nthAddress(c: Cidr, n: number): string {
  const [lo, hi] = range(c);
  if (lo + n > hi) throw new RangeError(`${c.text} has no address number ${n}`);
  return toAddress(lo + n);
}
