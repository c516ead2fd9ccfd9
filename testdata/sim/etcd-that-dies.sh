#!/bin/sh
# An etcd that reports its version (so kwokctl accepts it) and then fails to serve: a bootstrap
# that breaks after the cluster's processes and state exist. Used by tests/bootstrap_sim_test.ts.
case "$1" in
  --version|version) echo "etcd Version: 3.6.16"; echo "Git SHA: test"; echo "Go Version: go1.26"; exit 0 ;;
esac
echo "etcd: refusing to serve (test double)" >&2
exit 1
