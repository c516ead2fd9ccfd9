/**
 * The in-cluster load generators' defaults, light to import (`bench --help` shows them before the
 * Kubernetes client loads).
 */
import { CATALOG } from "../images/catalog.ts";

/** The wrk image: the catalog's (built by `deno task bake --target images`). */
export const DEFAULT_WRK_IMAGE: string = CATALOG.wrk.ref;
/** Each generator's CPU request, in cores (`bench --generator-cpu`). */
export const DEFAULT_GENERATOR_CPU = 0.25;
