/** The flags every task that talks to a cluster takes. */
import { flag } from "../flags.ts";

export const kubeFlags = {
  kubeconfig: flag.string("Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)", {
    placeholder: "FILE",
  }),
  context: flag.string("Kube context to use (default: the current context)", {
    placeholder: "NAME",
  }),
};
