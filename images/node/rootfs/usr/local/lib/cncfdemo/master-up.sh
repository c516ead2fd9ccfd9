#!/usr/bin/env bash
# kubeadm init on a master: take the API Elastic IP, fetch the CA and the kubeadm configuration
# from SSM, init, install Cilium, publish the admin kubeconfig to SSM (SecureString).
# shellcheck source=common.sh
. /usr/local/lib/cncfdemo/common.sh
: "${CLUSTER_NAME:?}" "${AWS_REGION:?}" "${API_ENDPOINT:?}" "${KUBEADM_INIT_PARAMETER:?}"
: "${CA_CERT_PARAMETER:?}" "${CA_KEY_PARAMETER:?}" "${ADMIN_CONF_PARAMETER:?}"
CILIUM_VERSION="${CILIUM_VERSION:-1.18.0}"

instance="$(imds instance-id)"
private_ip="$(imds local-ipv4)"
if [ -n "${API_ALLOCATION_ID:-}" ]; then
  log "associating the API address $API_ALLOCATION_ID"
  aws ec2 associate-address --region "$AWS_REGION" --allocation-id "$API_ALLOCATION_ID" \
    --instance-id "$instance" --allow-reassociation >/dev/null
fi

# The name the certificates and kubeconfigs use resolves here before the DNS Lambda has run.
host="${API_ENDPOINT%:*}"
grep -q " $host\$" /etc/hosts || echo "$private_ip $host" >>/etc/hosts

install -d -m 0700 /etc/kubernetes/pki
ssm_get "$CA_CERT_PARAMETER" >/etc/kubernetes/pki/ca.crt
ssm_get "$CA_KEY_PARAMETER" >/etc/kubernetes/pki/ca.key
chmod 0644 /etc/kubernetes/pki/ca.crt
ssm_get "$KUBEADM_INIT_PARAMETER" >/etc/kubernetes/kubeadm-init.yaml

if [ ! -f /etc/kubernetes/admin.conf ]; then
  log "kubeadm init"
  kubeadm init --config /etc/kubernetes/kubeadm-init.yaml
fi

export KUBECONFIG=/etc/kubernetes/admin.conf
if ! kubectl -n kube-system get daemonset cilium >/dev/null 2>&1; then
  log "installing Cilium $CILIUM_VERSION"
  cilium install --version "$CILIUM_VERSION" \
    --set ipam.operator.clusterPoolIPv4PodCIDRList=10.244.0.0/16
fi

log "publishing the admin kubeconfig to $ADMIN_CONF_PARAMETER"
if aws ssm get-parameter --region "$AWS_REGION" --name "$ADMIN_CONF_PARAMETER" >/dev/null 2>&1; then
  aws ssm put-parameter --region "$AWS_REGION" --name "$ADMIN_CONF_PARAMETER" \
    --type SecureString --tier Advanced --overwrite \
    --value "file:///etc/kubernetes/admin.conf" >/dev/null
else
  aws ssm put-parameter --region "$AWS_REGION" --name "$ADMIN_CONF_PARAMETER" \
    --type SecureString --tier Advanced --value "file:///etc/kubernetes/admin.conf" \
    --tags "Key=KubernetesCluster,Value=$CLUSTER_NAME" >/dev/null
fi
log "control plane ready"
