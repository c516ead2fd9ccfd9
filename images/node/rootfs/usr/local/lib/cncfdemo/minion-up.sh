#!/usr/bin/env bash
# kubeadm join on a minion: wait for masters.<cluster>.k8s (kept by the DNS Lambda), fetch the join
# configuration (token + CA certificate hash) from SSM, join. systemd restarts it until it works.
# shellcheck source=common.sh
. /usr/local/lib/cncfdemo/common.sh
: "${CLUSTER_NAME:?}" "${AWS_REGION:?}" "${API_ENDPOINT:?}" "${KUBEADM_JOIN_PARAMETER:?}"

host="${API_ENDPOINT%:*}"
if ! getent hosts "$host" >/dev/null; then
  log "$host does not resolve yet; systemd retries"
  exit 1
fi
install -d -m 0700 /etc/kubernetes
ssm_get "$KUBEADM_JOIN_PARAMETER" >/etc/kubernetes/kubeadm-join.yaml
log "kubeadm join $API_ENDPOINT"
kubeadm join --config /etc/kubernetes/kubeadm-join.yaml
log "joined"
