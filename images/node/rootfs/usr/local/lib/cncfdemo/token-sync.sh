#!/usr/bin/env bash
# Makes sure the bootstrap token in SSM (rotated by bootstrap:aws) exists in the cluster.
# shellcheck source=common.sh
. /usr/local/lib/cncfdemo/common.sh
: "${AWS_REGION:?}" "${TOKEN_PARAMETER:?}"
export KUBECONFIG=/etc/kubernetes/admin.conf
token="$(ssm_get "$TOKEN_PARAMETER")"
if ! kubeadm token list -o jsonpath='{.token}{"\n"}' | grep -qx "$token"; then
  log "creating the bootstrap token ${token%%.*}"
  kubeadm token create "$token" --ttl 24h0m0s >/dev/null
fi
