#!/usr/bin/env bash
# Installs the real components hush's tests use when present: a Secret
# Service (gnome-keyring, with secret-tool to read it back), PostgreSQL,
# tmux, gpg and pass (password stores), keepassxc (its CLI makes real CSV exports),
# sops (SOPS imports), the MinGW-w64 cross compiler `make cross` links
# hush.exe with, and the OpenSSH client the ssh-agent test drives. Debian/Ubuntu with
# apt-get; needs root (or sudo). Does nothing for what is already installed.
set -euo pipefail

# sops is not packaged by Debian 12: build the pinned release from the Go
# module proxy into $(go env GOPATH)/bin, where the tests look for it.
sops_version=v3.13.3
if ! command -v sops >/dev/null && [ ! -x "$(go env GOPATH)/bin/sops" ]; then
  echo "install-test-deps: installing sops $sops_version (go install)"
  go install "github.com/getsops/sops/v3/cmd/sops@$sops_version"
fi

pkgs=(gnome-keyring libsecret-tools dbus dbus-bin postgresql tmux gpg gpg-agent pass keepassxc gcc-mingw-w64-x86-64 openssh-client)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "install-test-deps: no apt-get; install by hand: ${missing[*]}" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
echo "install-test-deps: installing ${missing[*]}"
$sudo apt-get update -q >/dev/null
# Never dbus-x11: with dbus-launch on PATH, every process without a session
# bus would start its own daemons and leave them running.
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
