#!/bin/sh
# A stand-in for the go command, for lib/binaries_test.ts: exercises the cache's atomic writes and
# build lock without a real (minutes-long) build. Logs every call to $FAKE_GO_LOG; `go build` fails
# half-way (after writing part of a binary) when $FAKE_GO_FAIL is set.
echo "$*" >> "$FAKE_GO_LOG"
case "$1" in
  version) echo "go version go1.26.8 linux/amd64" ;;
  mod)
    case "$2" in
      download) printf '{"Path":"sigs.k8s.io/kwok","Version":"v0.8.0","GoMod":"%s"}\n' "$FAKE_GO_MOD" ;;
      tidy) ;;
    esac
    ;;
  list) printf 'sigs.k8s.io/kwok/cmd/kwok\nsigs.k8s.io/kwok/cmd/kwokctl\n' ;;
  build)
    out=""
    prev=""
    for a in "$@"; do
      if [ "$prev" = "-o" ]; then out="$a"; fi
      prev="$a"
    done
    echo "sigs.k8s.io/kwok/cmd/kwok" >&2
    if [ -n "$FAKE_GO_FAIL" ]; then
      printf 'half a binary' > "${out}kwok"
      echo "compile: out of memory (test double)" >&2
      exit 1
    fi
    for b in kwok kwokctl; do
      printf '#!/bin/sh\necho "%s version v0.8.0"\n' "$b" > "${out}$b"
      chmod +x "${out}$b"
    done
    ;;
esac
