#!/usr/bin/env bash
# Three replicas of a provider behind HAProxy (haproxy.cfg beside this
# script), each restarted in turn with SIGTERM under a steady load sent as
# EMQX sends it; fails unless every call is answered, and answered right.
# Installs HAProxy from Debian's packages when it is missing. (`--workspace`
# keeps the features CI built with, so nothing is compiled again.)
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v haproxy >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends haproxy >&2
fi

EXHOOK_TEST_HAPROXY="$(command -v haproxy)" \
  cargo test --workspace --test replicas -- --include-ignored --nocapture
