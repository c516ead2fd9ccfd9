/**
 * The Debian base of our Debian images: `debootstrap --variant=minbase` of bookworm from the
 * host's mirror, with netbase (/etc/services: wrk resolves "http") and ca-certificates, brought up
 * to date from bookworm-updates and bookworm-security, trimmed like Debian's slim images
 * (documentation, manuals and translations are excluded, copyright files kept), with apt lists,
 * caches and logs removed. `/usr/sbin/policy-rc.d` (exit 101) stays: nothing starts services in a
 * container, and it keeps a package's postinst from starting its service on the build host.
 *
 * Cached as `<cache>/images/rootfs/<suite>-<key>/`, keyed by a hash of everything above; built in
 * a temporary directory and renamed into place. Its layer is cached beside it in `layers/`.
 */
import { createHash } from "node:crypto";
import { CncfdemoError } from "../errors.ts";
import { log } from "../log.ts";
import { exists } from "../paths.ts";
import { hasProgram, run } from "../run_program.ts";
import { type DebianMirrors, hostDebianMirrors } from "./apt_sources.ts";
import { buildSignal, imagesCacheDir } from "./cache.ts";
import { aptProgress, chrootRun, withApt } from "./chroot.ts";
import { type Compression, LAYER_EXTENSIONS, type LayerBlob, tarLayer } from "./layer_tar.ts";
import { mountsUnder, unmountUnder } from "../mounts.ts";

export const SUITE = "bookworm";
export const BASE_PACKAGES = ["netbase", "ca-certificates"] as const;

/** Bump when the base's recipe below changes in a way the key does not see. */
const BASE_RECIPE_VERSION = 1;

const APT_CONF = `// cncfdemo images: no recommended packages, no translations
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
`;

const DPKG_EXCLUDES =
  `# cncfdemo images: no documentation, manuals or translations (copyright files are kept)
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/groff/*
path-exclude=/usr/share/lintian/*
path-exclude=/usr/share/linda/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
`;

const POLICY_RC_D = `#!/bin/sh
# cncfdemo images: services never start when packages are installed (nothing runs init scripts in
# a container, and the image build must not start them on the build host).
exit 101
`;

/** Removes what the excludes would have kept out, for packages installed before they existed. */
const TRIM_SCRIPT = [
  "find /usr/share/doc -depth -mindepth 1 ! -type d ! -name copyright -delete",
  "find /usr/share/doc -depth -mindepth 1 -type d -empty -delete",
  "find /usr/share/man /usr/share/info /usr/share/groff /usr/share/lintian /usr/share/linda -mindepth 1 -delete 2>/dev/null || true",
  "find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +",
].join("\n");

/**
 * Removes apt lists and caches, logs and backup files (the apt caches must not be bind-mounted
 * when this runs). Run on the base and on every image, so an image's layer has no whiteout for
 * them.
 */
export const CLEAN_SCRIPT = [
  // partial/ stays (the base has it): removing and recreating it would make an opaque directory
  "mkdir -p /var/lib/apt/lists/partial /var/cache/apt/archives/partial",
  "find /var/lib/apt/lists /var/cache/apt/archives -mindepth 1 -maxdepth 1 ! -name partial -exec rm -rf {} +",
  "find /var/lib/apt/lists/partial /var/cache/apt/archives/partial -mindepth 1 -exec rm -rf {} +",
  "rm -f /var/cache/apt/*.bin",
  "rm -rf /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log /var/log/bootstrap.log",
  "rm -f /var/cache/debconf/*-old /var/lib/dpkg/*-old /etc/passwd- /etc/group- /etc/shadow- /etc/gshadow-",
  "rm -f /var/cache/ldconfig/aux-cache /etc/resolv.conf /etc/hostname",
  "rm -rf /tmp/* /var/tmp/* /root/.cache",
].join("\n");

/** The deb822 sources of the images. */
export function debianSources(m: DebianMirrors, suite = SUITE): string {
  const keyring = "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg";
  return [
    `Types: deb\nURIs: ${m.mirror}\nSuites: ${suite} ${suite}-updates\nComponents: main\n${keyring}`,
    `Types: deb\nURIs: ${m.security}\nSuites: ${suite}-security\nComponents: main\n${keyring}`,
  ].join("\n\n") + "\n";
}

export interface DebianBase {
  /** Hash of the base's inputs. */
  key: string;
  rootfs: string;
  mirrors: DebianMirrors;
}

/** The base's key and where it lives (nothing is built). */
export async function debianBaseSpec(): Promise<DebianBase> {
  const mirrors = await hostDebianMirrors(SUITE);
  const key = createHash("sha256").update(JSON.stringify({
    version: BASE_RECIPE_VERSION,
    suite: SUITE,
    packages: BASE_PACKAGES,
    mirrors,
    files: [APT_CONF, DPKG_EXCLUDES, POLICY_RC_D, TRIM_SCRIPT, CLEAN_SCRIPT],
  })).digest("hex").slice(0, 16);
  return { key, rootfs: `${imagesCacheDir()}/rootfs/${SUITE}-${key}`, mirrors };
}

/** The shared apt caches under `<cache>/images/apt/`. */
export function aptCaches(): { lists: string; archives: string } {
  return {
    lists: `${imagesCacheDir()}/apt/lists`,
    archives: `${imagesCacheDir()}/apt/archives`,
  };
}

async function writeFile(path: string, text: string, mode: number): Promise<void> {
  await Deno.writeTextFile(path, text);
  await Deno.chmod(path, mode);
  await Deno.chown(path, 0, 0);
}

/**
 * The base root filesystem, built when missing (needs root and debootstrap; the caller holds the
 * images lock). Returns whether it was built.
 */
export async function ensureDebianBase(
  progress: (message: string) => void,
): Promise<DebianBase & { built: boolean }> {
  const spec = await debianBaseSpec();
  if (await exists(`${spec.rootfs}/etc/debian_version`)) return { ...spec, built: false };
  if (!(await hasProgram("debootstrap"))) {
    throw new CncfdemoError(
      "Cannot build the Debian base of the images: debootstrap is not installed; apt-get install debootstrap",
    );
  }
  const parent = `${imagesCacheDir()}/rootfs`;
  await Deno.mkdir(parent, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: parent, prefix: `.tmp-${SUITE}-` });
  const started = performance.now();
  const phase = (what: string) =>
    log.debug(`debian base: ${what} after ${((performance.now() - started) / 1000).toFixed(1)}s`);
  try {
    progress(`debootstrap ${SUITE} from ${spec.mirrors.mirror}`);
    await run("debootstrap", [
      "--variant=minbase",
      `--include=${BASE_PACKAGES.join(",")}`,
      "--components=main",
      SUITE,
      tmp,
      spec.mirrors.mirror,
    ], {
      ...(buildSignal() ? { signal: buildSignal()! } : {}),
      onLine: (line) => {
        const m = /^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) (\S+)/.exec(line);
        if (m) progress(`debootstrap: ${m[1]!.toLowerCase()} ${m[2]}`);
      },
    });
    phase("debootstrap done");
    await Deno.chmod(tmp, 0o755);
    await Deno.remove(`${tmp}/etc/apt/sources.list`).catch(() => {});
    await writeFile(
      `${tmp}/etc/apt/sources.list.d/debian.sources`,
      debianSources(spec.mirrors),
      0o644,
    );
    await writeFile(`${tmp}/etc/apt/apt.conf.d/90cncfdemo`, APT_CONF, 0o644);
    await writeFile(`${tmp}/etc/dpkg/dpkg.cfg.d/90cncfdemo-excludes`, DPKG_EXCLUDES, 0o644);
    await writeFile(`${tmp}/usr/sbin/policy-rc.d`, POLICY_RC_D, 0o755);
    await withApt(tmp, aptCaches(), async () => {
      progress(`updating from ${SUITE}-updates and ${SUITE}-security`);
      await chrootRun(tmp, ["apt-get", "-q", "update"]);
      await chrootRun(tmp, ["apt-get", "-q", "-y", "dist-upgrade"], (l) => {
        const p = aptProgress(l);
        if (p) progress(p);
      });
    });
    phase("updates installed");
    await chrootRun(tmp, ["sh", "-ec", TRIM_SCRIPT]);
    await chrootRun(tmp, ["sh", "-ec", CLEAN_SCRIPT]);
    await Deno.rename(tmp, spec.rootfs);
    phase("trimmed, cleaned and in place");
  } catch (err) {
    await unmountUnder(tmp).catch(() => {});
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
  await pruneOthers(parent, `${SUITE}-`, `${SUITE}-${spec.key}`);
  return { ...spec, built: true };
}

/** Removes older entries `prefix*` of `dir` other than `keep` (a base whose inputs changed). */
async function pruneOthers(dir: string, prefix: string, keep: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith(prefix) && !e.name.startsWith(keep)) {
      if ((await mountsUnder(`${dir}/${e.name}`)).length === 0) {
        await Deno.remove(`${dir}/${e.name}`, { recursive: true }).catch(() => {});
      }
    }
  }
}

/** The base's layer, cached in `<cache>/images/layers/` (tarred once per base and compression). */
export async function debianBaseLayer(
  base: DebianBase,
  compression: Compression,
  progress: (message: string) => void,
): Promise<{ layer: LayerBlob; built: boolean }> {
  const dir = `${imagesCacheDir()}/layers`;
  await Deno.mkdir(dir, { recursive: true });
  const name = `${SUITE}-${base.key}-${compression}`;
  const meta = `${dir}/${name}.json`;
  try {
    const layer = JSON.parse(await Deno.readTextFile(meta)) as LayerBlob;
    if (await exists(layer.path)) return { layer, built: false };
  } catch {
    // not cached yet
  }
  progress(`packing the ${SUITE} base layer`);
  const started = performance.now();
  const layer = await tarLayer(base.rootfs, `${dir}/${name}${LAYER_EXTENSIONS[compression]}`, {
    compression,
    signal: buildSignal(),
  });
  const tmp = `${meta}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(layer));
  await Deno.rename(tmp, meta);
  await pruneOthers(dir, `${SUITE}-`, `${SUITE}-${base.key}-`);
  log.debug(
    `debian base layer: ${(layer.size / 1e6).toFixed(1)} MB ${compression} in ${
      ((performance.now() - started) / 1000).toFixed(1)
    }s`,
  );
  return { layer, built: true };
}
