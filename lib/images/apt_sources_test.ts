import assert from "node:assert/strict";
import { DEFAULT_MIRRORS, hostDebianMirrors, mirrorsFor, parseAptSources } from "./apt_sources.ts";

const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example.org/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example.org/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://disabled.example.org/debian
Suites: trixie
Enabled: no
`;

Deno.test("parseAptSources + mirrorsFor: deb822, the suite's mirror and its security mirror", () => {
  const m = mirrorsFor(parseAptSources(DEB822), "bookworm");
  assert.deepEqual(m, {
    mirror: "http://mirror.example.org/debian",
    security: "http://security.example.org/debian-security",
  });
  // a disabled entry is not a source
  assert.deepEqual(mirrorsFor(parseAptSources(DEB822), "trixie"), DEFAULT_MIRRORS);
});

Deno.test("parseAptSources: one-line format with options; deb-src is not a mirror", () => {
  const text = `# comment
deb-src http://src.example.org/debian bookworm main
deb [arch=amd64 signed-by=/k.gpg] http://one.example.org/debian bookworm main contrib
`;
  assert.deepEqual(mirrorsFor(parseAptSources(text), "bookworm"), {
    mirror: "http://one.example.org/debian",
    security: DEFAULT_MIRRORS.security,
  });
});

Deno.test("hostDebianMirrors: reads sources.list and sources.list.d; defaults when there is none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-apt-" });
  try {
    assert.deepEqual(await hostDebianMirrors("bookworm", dir), DEFAULT_MIRRORS);
    await Deno.mkdir(`${dir}/sources.list.d`);
    await Deno.writeTextFile(`${dir}/sources.list.d/debian.sources`, DEB822);
    assert.equal(
      (await hostDebianMirrors("bookworm", dir)).mirror,
      "http://mirror.example.org/debian",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
