#!/usr/bin/env bash
# Installs the real components hush's tests use when present: a Secret
# Service (gnome-keyring, with secret-tool to read it back), PostgreSQL and
# tmux; the MinGW-w64 cross compiler `make cross` links hush.exe with; and
# the OpenSSH client (ssh-add, ssh-keygen) the ssh-agent test drives. Debian/Ubuntu with apt-get; needs root (or sudo). Does nothing for a
# package already installed.
set -euo pipefail
pkgs=(gnome-keyring libsecret-tools dbus dbus-bin postgresql tmux gcc-mingw-w64-x86-64 openssh-client)
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
