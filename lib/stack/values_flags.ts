/** The flags that choose the stack's values, shared by render, rollout and demo. */
import { flag } from "../flags.ts";

export const valuesFlags = {
  values: flag.list("YAML file of values overriding the defaults", { placeholder: "FILE" }),
  set: flag.list("Set one value: path=value, e.g. countly.api.minReplicas=3", {
    placeholder: "PATH=VALUE",
  }),
};
