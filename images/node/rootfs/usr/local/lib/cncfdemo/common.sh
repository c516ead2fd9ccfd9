# shellcheck shell=bash
# Shared by the cncfdemo node scripts.
set -euo pipefail
umask 077

log() { echo "cncfdemo: $*" | tee /dev/console; }

# The value of an SSM parameter (SecureString decrypted) — readable by this node's role only.
ssm_get() {
  aws ssm get-parameter --region "$AWS_REGION" --with-decryption --name "$1" \
    --query Parameter.Value --output text
}

imds() {
  local token
  token="$(curl -fsS -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" \
    http://169.254.169.254/latest/api/token)"
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}
