#!/usr/bin/env bash
# Provisions a cncfdemo node image (run by `deno task bake --target ami` as the builder's user data,
# after the files under rootfs/ have been written to /). Ubuntu 24.04 base. Installs containerd,
# runc, the CNI plugins, crictl, kubeadm/kubelet/kubectl at the pinned Kubernetes version (checked
# against their published SHA-256), the AWS CLI (for SSM Parameter Store) and the Cilium CLI, then
# enables the units gated on /etc/sysconfig/kubernetes-masters|minions and powers off: the stopped
# builder is what `bake` waits for. On failure it prints CNCFDEMO_BAKE_FAILED and stays up.
set -euo pipefail
trap 'echo "CNCFDEMO_BAKE_FAILED at line $LINENO" | tee /dev/console' ERR

KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.36.3}"
CNI_PLUGINS_VERSION="v1.7.1"
CRICTL_VERSION="v1.36.0"
CILIUM_CLI_VERSION="v0.18.9"
ARCH="$(dpkg --print-architecture)" # amd64 | arm64

log() { echo "cncfdemo-bake: $*" | tee /dev/console; }

fetch_checked() { # URL SHA256-URL DEST
  curl -fsSL --retry 5 -o "$3" "$1"
  echo "$(curl -fsSL --retry 5 "$2" | awk '{print $1}')  $3" | sha256sum --check --strict -
}

log "packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends containerd runc conntrack socat ethtool ebtables \
  iptables ca-certificates curl unzip jq
apt-mark hold containerd runc

log "containerd with the systemd cgroup driver"
install -d /etc/containerd
containerd config default >/etc/containerd/config.toml
sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml
systemctl enable containerd

log "CNI plugins $CNI_PLUGINS_VERSION"
tmp="$(mktemp -d)"
base="https://github.com/containernetworking/plugins/releases/download/$CNI_PLUGINS_VERSION"
fetch_checked "$base/cni-plugins-linux-$ARCH-$CNI_PLUGINS_VERSION.tgz" \
  "$base/cni-plugins-linux-$ARCH-$CNI_PLUGINS_VERSION.tgz.sha256" "$tmp/cni.tgz"
install -d /opt/cni/bin /etc/cni/net.d
tar -C /opt/cni/bin -xzf "$tmp/cni.tgz"

log "crictl $CRICTL_VERSION"
base="https://github.com/kubernetes-sigs/cri-tools/releases/download/$CRICTL_VERSION"
fetch_checked "$base/crictl-$CRICTL_VERSION-linux-$ARCH.tar.gz" \
  "$base/crictl-$CRICTL_VERSION-linux-$ARCH.tar.gz.sha256" "$tmp/crictl.tgz"
tar -C /usr/local/bin -xzf "$tmp/crictl.tgz"

log "Kubernetes $KUBERNETES_VERSION (kubeadm, kubelet, kubectl)"
for bin in kubeadm kubelet kubectl; do
  url="https://dl.k8s.io/release/$KUBERNETES_VERSION/bin/linux/$ARCH/$bin"
  fetch_checked "$url" "$url.sha256" "/usr/local/bin/$bin"
  chmod 0755 "/usr/local/bin/$bin"
done
[ "$(/usr/local/bin/kubeadm version -o short)" = "$KUBERNETES_VERSION" ]

log "AWS CLI v2"
case "$ARCH" in amd64) awsarch=x86_64 ;; arm64) awsarch=aarch64 ;; esac
curl -fsSL --retry 5 -o "$tmp/awscli.zip" "https://awscli.amazonaws.com/awscli-exe-linux-$awsarch.zip"
unzip -q "$tmp/awscli.zip" -d "$tmp"
"$tmp/aws/install" --update

log "Cilium CLI $CILIUM_CLI_VERSION"
base="https://github.com/cilium/cilium-cli/releases/download/$CILIUM_CLI_VERSION"
fetch_checked "$base/cilium-linux-$ARCH.tar.gz" "$base/cilium-linux-$ARCH.tar.gz.sha256sum" \
  "$tmp/cilium.tgz"
tar -C /usr/local/bin -xzf "$tmp/cilium.tgz"
rm -rf "$tmp"

log "units"
chmod 0755 /usr/local/lib/cncfdemo/*.sh
systemctl daemon-reload
systemctl enable kubelet.service cncfdemo-master.service cncfdemo-minion.service \
  cncfdemo-token-sync.timer

log "clean up for imaging"
apt-get clean
rm -rf /var/lib/apt/lists/* /var/lib/cloud/instances/* /var/log/cloud-init*.log
truncate -s 0 /etc/machine-id
echo "baked Kubernetes $KUBERNETES_VERSION on $(date -u +%FT%TZ)" >/etc/cncfdemo-image
log "done"
systemctl poweroff
