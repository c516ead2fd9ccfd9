/**
 * render — print or write the rendered manifests of the demo stack (like `helm template`), with
 * the values checked first. Generated secrets are random here (a rollout reuses the cluster's).
 *
 * Arguments: --values FILE (repeatable), --set PATH=VALUE (repeatable), --out DIR
 * Example:   deno task render --set countly.api.minReplicas=3 --out rendered/
 */
import { runMain } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { log } from "../lib/log.ts";
import { writeFileAtomic } from "../lib/paths.ts";
import type { Rendered } from "../lib/stack/render.ts";
import { valuesFlags } from "../lib/stack/values_flags.ts";

export const command: Command = {
  name: "render",
  summary: "Print (or write to --out) the rendered manifests of the demo stack.",
  examples: ["deno task render", "deno task render --values my-values.yaml --out rendered/"],
};

export const flags = {
  ...valuesFlags,
  out: flag.string("Write one YAML file per component into this directory instead of printing", {
    placeholder: "DIR",
  }),
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  // nunjucks and yaml load after the flags parse, so --help answers without them.
  const { renderStack, toYaml } = await import("../lib/stack/render.ts");
  const { freshSecrets } = await import("../lib/stack/secrets.ts");
  const { resolveValues } = await import("../lib/stack/values.ts");
  const values = await resolveValues(o.values, o.set);
  const objects = await renderStack(values, freshSecrets());
  if (!o.out) {
    log.out(toYaml(objects));
    return;
  }
  const byComponent = new Map<string, Rendered[]>();
  for (const obj of objects) {
    const c = obj.metadata.labels["app.kubernetes.io/component"]!;
    byComponent.set(c, [...(byComponent.get(c) ?? []), obj]);
  }
  for (const [component, objs] of byComponent) {
    await writeFileAtomic(`${o.out}/${component}.yaml`, toYaml(objs), 0o600);
  }
  log.info(`Wrote ${objects.length} objects in ${byComponent.size} files to ${o.out}/`);
}

if (import.meta.main) runMain(main);
