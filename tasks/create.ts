/**
 * create configmap — make a ConfigMap from files, with kubectl's semantics: the key is the file's
 * base name (or KEY=PATH), a directory contributes each regular file in it (--recursive descends),
 * UTF-8 text goes to data and anything else to binaryData. Applied with server-side apply (so a
 * re-run reports "unchanged"), or printed with --dry-run=client -o yaml.
 *
 * Arguments: configmap NAME --from-file=[KEY=]PATH (repeatable), --recursive, --namespace NS,
 *            --dry-run=client, -o yaml|json, --context, --kubeconfig
 * Example:   deno task create configmap countly --from-file=templates/countly-api/configmaps/countly-config
 */
import { runMain, UsageError } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { kubeFlags } from "../lib/kube/flags.ts";
import { log } from "../lib/log.ts";

export const command: Command = {
  name: "create",
  summary:
    "Create a ConfigMap from files (kubectl create configmap semantics): deno task create configmap NAME …",
  usage: "configmap NAME --from-file=[KEY=]PATH [flags]",
  positionals: { min: 2, max: 2 },
  examples: [
    "deno task create configmap example --from-file=path/to/directory",
    "deno task create configmap app --from-file=config.js=local/api.js --dry-run=client -o yaml",
  ],
};

export const flags = {
  ...kubeFlags,
  "from-file": flag.list("A file, KEY=file, or directory whose regular files become keys", {
    placeholder: "[KEY=]PATH",
  }),
  recursive: flag.boolean("Also take files from subdirectories of a --from-file directory"),
  namespace: flag.string("Namespace of the ConfigMap (default: the context's, else default)", {
    short: "n",
    placeholder: "NS",
  }),
  "dry-run": flag.choice(
    "Only print the object (client) or have the server validate it (server)",
    [
      "none",
      "client",
      "server",
    ] as const,
    { default: "none" },
  ),
  output: flag.choice("Print the object in this format", ["yaml", "json", "name"] as const, {
    short: "o",
  }),
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  const [what, name] = o.positionals as [string, string];
  if (what !== "configmap" && what !== "cm") {
    throw new UsageError(
      `Cannot create "${what}": only "configmap" is supported (deno task create configmap NAME …)`,
    );
  }
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
    throw new UsageError(
      `Cannot use "${name}" as a ConfigMap name: expected lowercase letters, digits, '-' and '.'`,
    );
  }
  if (!o.fromFile.length) {
    throw new UsageError("Nothing to put in the ConfigMap: pass --from-file=PATH");
  }
  // Loaded once the input is known to be good: usage errors and --help answer without them.
  const [{ stringify }, { configMapFromPaths }, { connectKube }, { FIELD_MANAGER }, { outcomeOf }] =
    await Promise.all([
      import("yaml"),
      import("../lib/stack/configmap_files.ts"),
      import("../lib/kube/client.ts"),
      import("../lib/stack/components.ts"),
      import("../lib/stack/rollout.ts"),
    ]);
  const cm = await configMapFromPaths(name, o.fromFile, o.recursive);
  const print = (obj: unknown) => {
    if (o.output === "json") log.out(JSON.stringify(obj, null, 2));
    else if (o.output === "name") log.out(`configmap/${name}`);
    else log.out(stringify(obj, { lineWidth: 0 }).trimEnd());
  };
  if (o.dryRun === "client") {
    if (o.namespace) cm.metadata.namespace = o.namespace;
    print(cm);
    return;
  }
  const kube = await connectKube(o);
  try {
    const namespace = o.namespace ?? kube.kc.getContextObject(kube.context)?.namespace ?? "default";
    cm.metadata.namespace = namespace;
    const before = await kube.rest.get(cm);
    const after = await kube.rest.apply(cm, {
      fieldManager: FIELD_MANAGER,
      dryRun: o.dryRun === "server",
    });
    if (o.output) {
      print(after);
      return;
    }
    const what = outcomeOf(before, after);
    log.out(`configmap/${name} ${what}${o.dryRun === "server" ? " (server dry run)" : ""}`);
  } finally {
    kube.close();
  }
}

if (import.meta.main) runMain(main);
