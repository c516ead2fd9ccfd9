/**
 * Typed command-line flags over `node:util` parseArgs.
 *
 * A task declares its flags once ({@link flag} builders), and {@link parseFlags} returns a typed,
 * camelCased object. Unknown flags, missing values and bad values become a one-line
 * {@link UsageError} naming the flag and what is expected; `--help` prints generated help.
 * `--verbose` and `--help` are added to every task.
 *
 * @example
 * const opts = parseFlags(command, { nodes: flag.int("Node count", { min: 1, default: 3 }) }, args);
 * opts.nodes; // number
 */
import { parseArgs } from "node:util";
import { HelpShown, UsageError } from "./errors.ts";
import { log } from "./log.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { parseQuantity } from "./quantity.ts";

/** One flag's declaration. `D` is true when the parsed value is always present. */
export interface FlagDef<T, D extends boolean = boolean> {
  readonly kind: "string" | "boolean";
  readonly description: string;
  /** Shown after the flag in help, e.g. `N`, `DURATION`. */
  readonly placeholder?: string;
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: T;
  /** How the default is shown in help when it differs from the value (e.g. `5m` for 300000). */
  readonly defaultLabel?: string;
  /** Converts the raw text; returns undefined when it is invalid. */
  readonly parse?: (raw: string) => T | undefined;
  /** What a valid value looks like, for error messages: `a whole number ≥ 1`. */
  readonly expected?: string;
  /** Marker for type inference only. */
  readonly _present?: D;
}

// deno-lint-ignore no-explicit-any
export type FlagSpec = Record<string, FlagDef<any, boolean>>;

type Camel<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<Camel<B>>}`
  : S;

/** The parsed flags: camelCased keys; optional flags without default may be undefined. */
export type Parsed<S extends FlagSpec> =
  & {
    -readonly [K in keyof S & string as Camel<K>]: S[K] extends FlagDef<infer T, true> ? T
      : S[K] extends FlagDef<infer T, boolean> ? T | undefined
      : never;
  }
  & { verbose: boolean; positionals: string[] };

/** What a task is, for `--help` and error messages. */
export interface Command {
  /** The task name as typed: `bootstrap:sim`. */
  readonly name: string;
  readonly summary: string;
  /** Usage line after `deno task <name>`; default `[flags]`. */
  readonly usage?: string;
  readonly examples?: readonly string[];
  /** Positional arguments allowed (default 0). */
  readonly positionals?: { readonly min?: number; readonly max: number };
}

interface Opts<T> {
  placeholder?: string;
  short?: string;
}

function withDefault<T>(
  base: Omit<FlagDef<T>, "default" | "_present">,
  def: T | undefined,
  label?: string,
): FlagDef<T, boolean> {
  return def === undefined
    ? base
    : { ...base, default: def, ...(label ? { defaultLabel: label } : {}) };
}

/** Flag builders. A builder given a default yields a value that is always present. */
export const flag = {
  string<D extends string | undefined = undefined>(
    description: string,
    opts: Opts<string> & {
      default?: D;
      /** Returns undefined for a valid value, or what is expected. */
      validate?: (value: string) => string | undefined;
      expected?: string;
    } = {},
  ): FlagDef<string, D extends string ? true : false> {
    const validate = opts.validate;
    return withDefault<string>({
      kind: "string",
      description,
      placeholder: opts.placeholder ?? "VALUE",
      ...(opts.short ? { short: opts.short } : {}),
      parse: (raw) => (validate?.(raw) === undefined ? raw : undefined),
      expected: opts.expected ?? "a value",
    }, opts.default) as FlagDef<string, D extends string ? true : false>;
  },

  boolean(description: string, opts: { short?: string } = {}): FlagDef<boolean, true> {
    return {
      kind: "boolean",
      description,
      default: false,
      ...(opts.short ? { short: opts.short } : {}),
    } as FlagDef<boolean, true>;
  },

  int<D extends number | undefined = undefined>(
    description: string,
    opts: Opts<number> & { min?: number; max?: number; default?: D } = {},
  ): FlagDef<number, D extends number ? true : false> {
    const { min, max } = opts;
    const expected = min !== undefined && max !== undefined
      ? `a whole number from ${min} to ${max}`
      : min !== undefined
      ? `a whole number ≥ ${min}`
      : max !== undefined
      ? `a whole number ≤ ${max}`
      : "a whole number";
    return withDefault<number>({
      kind: "string",
      description,
      placeholder: opts.placeholder ?? "N",
      parse: (raw) => {
        if (!/^[+-]?\d+$/.test(raw.trim())) return undefined;
        const n = Number(raw);
        if (!Number.isSafeInteger(n)) return undefined;
        if (min !== undefined && n < min) return undefined;
        if (max !== undefined && n > max) return undefined;
        return n;
      },
      expected,
    }, opts.default) as FlagDef<number, D extends number ? true : false>;
  },

  /** A duration (`30s`, `5m`, `1h`), parsed to milliseconds; the default is given as text. */
  duration<D extends string | undefined = undefined>(
    description: string,
    opts: Opts<number> & { default?: D; minMs?: number } = {},
  ): FlagDef<number, D extends string ? true : false> {
    const minMs = opts.minMs ?? 1;
    const def = opts.default === undefined ? undefined : parseDuration(opts.default);
    return withDefault<number>(
      {
        kind: "string",
        description,
        placeholder: opts.placeholder ?? "DURATION",
        parse: (raw) => {
          const ms = parseDuration(raw);
          return ms !== undefined && ms >= minMs ? ms : undefined;
        },
        expected: minMs > 1
          ? `a duration like 30s or 5m, at least ${formatDuration(minMs)}`
          : "a duration like 30s or 5m",
      },
      def,
      opts.default,
    ) as FlagDef<number, D extends string ? true : false>;
  },

  /** A Kubernetes quantity (`8`, `500m`, `32Gi`), parsed to base units; default given as text. */
  quantity<D extends string | undefined = undefined>(
    description: string,
    opts: Opts<number> & { default?: D; example?: string } = {},
  ): FlagDef<number, D extends string ? true : false> {
    const def = opts.default === undefined ? undefined : parseQuantity(opts.default);
    return withDefault<number>(
      {
        kind: "string",
        description,
        placeholder: opts.placeholder ?? "QUANTITY",
        parse: (raw) => {
          const q = parseQuantity(raw);
          return q !== undefined && q > 0 ? q : undefined;
        },
        expected: `a positive quantity like ${opts.example ?? "8, 500m or 32Gi"}`,
      },
      def,
      opts.default,
    ) as FlagDef<number, D extends string ? true : false>;
  },

  /** One of a fixed set of words. */
  choice<const C extends readonly string[], D extends C[number] | undefined = undefined>(
    description: string,
    choices: C,
    opts: Opts<C[number]> & { default?: D } = {},
  ): FlagDef<C[number], D extends string ? true : false> {
    return withDefault<C[number]>({
      kind: "string",
      description,
      placeholder: opts.placeholder ?? choices.join("|"),
      ...(opts.short ? { short: opts.short } : {}),
      parse: (raw) => (choices.includes(raw) ? raw as C[number] : undefined),
      expected: `one of ${choices.join(", ")}`,
    }, opts.default) as FlagDef<C[number], D extends string ? true : false>;
  },

  /** A repeatable flag; every occurrence is parsed; always present (possibly empty). */
  list<T = string>(
    description: string,
    opts: Opts<T> & { parse?: (raw: string) => T | undefined; expected?: string } = {},
  ): FlagDef<T[], true> {
    return {
      kind: "string",
      description,
      multiple: true,
      placeholder: opts.placeholder ?? "VALUE",
      ...(opts.short ? { short: opts.short } : {}),
      // parse applies per element; see parseFlags
      parse: opts.parse as unknown as (raw: string) => T[] | undefined,
      expected: opts.expected ?? "a value",
      default: [],
    } as FlagDef<T[], true>;
  },
};

const COMMON: FlagSpec = {
  help: { kind: "boolean", description: "Show this help", short: "h" },
  verbose: { kind: "boolean", description: "Print debug output, and stacks with errors" },
};

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The generated `--help` text of a task. */
export function helpText(cmd: Command, spec: FlagSpec): string {
  const all = { ...spec, ...COMMON };
  const rows = Object.entries(all).map(([name, def]) => {
    const short = def.short ? `-${def.short}, ` : "    ";
    const left = `${short}--${name}${
      def.kind === "string" ? ` ${def.placeholder ?? "VALUE"}` : ""
    }`;
    let right = def.description;
    if (def.multiple) right += " (repeatable)";
    if (def.kind === "string" && !def.multiple && def.default !== undefined) {
      right += ` (default: ${def.defaultLabel ?? String(def.default)})`;
    }
    return [left, right] as const;
  });
  const width = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 2);
  const lines = [
    `Usage: deno task ${cmd.name} ${cmd.usage ?? "[flags]"}`,
    "",
    cmd.summary,
    "",
    "Flags:",
    ...rows.map(([l, r]) =>
      l.length + 2 > width ? `  ${l}\n  ${" ".repeat(width)}${r}` : `  ${l.padEnd(width)}${r}`
    ),
  ];
  if (cmd.examples?.length) {
    lines.push("", "Examples:", ...cmd.examples.map((e) => `  ${e}`));
  }
  return lines.join("\n");
}

/**
 * Parses `argv` against `spec`. Throws {@link UsageError} for anything wrong, {@link HelpShown}
 * after printing help for `--help`.
 */
export function parseFlags<S extends FlagSpec>(
  cmd: Command,
  spec: S,
  argv: readonly string[],
): Parsed<S> {
  const all: FlagSpec = { ...spec, ...COMMON };
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const [name, def] of Object.entries(all)) {
    options[name] = {
      type: def.kind,
      ...(def.short ? { short: def.short } : {}),
      ...(def.multiple ? { multiple: true } : {}),
    };
  }
  const args = joinNegativeValues(argv, all);
  const where = `deno task ${cmd.name}`;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw translateParseError(err, where, all);
  }
  const values = parsed.values as Record<
    string,
    string | boolean | (string | boolean)[] | undefined
  >;
  if (values.help) {
    log.out(helpText(cmd, spec));
    throw new HelpShown();
  }
  const max = cmd.positionals?.max ?? 0;
  const min = cmd.positionals?.min ?? 0;
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals[max]!;
    throw new UsageError(
      extra.startsWith("-")
        ? `Unknown flag ${extra} for ${where}: see --help for the flags it takes`
        : `Unexpected argument "${extra}" for ${where}: see --help`,
    );
  }
  if (parsed.positionals.length < min) {
    throw new UsageError(
      `Missing argument for ${where}: usage is ${where} ${cmd.usage ?? ""}`.trim(),
    );
  }
  const out: Record<string, unknown> = {
    verbose: values.verbose === true,
    positionals: parsed.positionals,
  };
  for (const [name, def] of Object.entries(spec)) {
    const raw = values[name];
    const key = camel(name);
    if (raw === undefined) {
      out[key] = def.default;
      continue;
    }
    if (def.kind === "boolean") {
      out[key] = raw === true;
      continue;
    }
    const convert = (text: string) => {
      if (!def.parse) return text;
      const v = def.parse(text);
      if (v === undefined) {
        throw new UsageError(
          `Cannot parse --${name} "${text}": expected ${def.expected ?? "a value"}`,
        );
      }
      return v;
    };
    out[key] = Array.isArray(raw) ? raw.map((r) => convert(String(r))) : convert(String(raw));
  }
  return out as Parsed<S>;
}

/** `--minions -1` → `--minions=-1`, so a negative number reaches validation and gets a real message. */
function joinNegativeValues(argv: readonly string[], spec: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const def = a.startsWith("--") && !a.includes("=") ? spec[a.slice(2)] : undefined;
    if (def?.kind === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

function translateParseError(err: unknown, where: string, spec: FlagSpec): Error {
  const code = (err as { code?: string }).code;
  const msg = err instanceof Error ? err.message : String(err);
  const quoted = /'([^']+)'/.exec(msg)?.[1] ?? "";
  const flagName = quoted.split(" ")[0] ?? quoted;
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return new UsageError(
        `Unknown flag ${flagName} for ${where}: see --help for the flags it takes`,
      );
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const def = spec[flagName.replace(/^-+/, "")] ??
        Object.values(spec).find((d) => d.short && `-${d.short}` === flagName);
      if (def?.kind === "boolean") {
        return new UsageError(`Flag ${flagName} takes no value: write just ${flagName}`);
      }
      return new UsageError(
        `Flag ${flagName} needs a value: expected ${
          def?.expected ?? "a value"
        } (write ${flagName}=VALUE for a value starting with "-")`,
      );
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return new UsageError(`Unexpected argument "${flagName}" for ${where}: see --help`);
    default:
      return new UsageError(`Cannot parse the arguments of ${where}: ${msg}`);
  }
}
