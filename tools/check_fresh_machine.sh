#!/usr/bin/env bash
# Checks that the README's "Two commands" work on a truly fresh Debian 12 machine.
#
# CI runs on a machine where packages were installed by hand, so it cannot see a package that
# tools/setup.sh forgets to install. This script builds a throw-away Debian 12 (bookworm) root
# with debootstrap (--variant=minbase plus ca-certificates: root, apt, bash, no toolchain),
# copies into it a clean clone of this repository's committed HEAD (uncommitted changes do not
# count, as in CI) with ../shared beside it, and runs there, via chroot, the two commands that
# README.md gives under its "Two commands" heading, exactly as written, one after the other,
# each from the clone's top folder. It prints each command, its exit status and its wall time,
# keeps the full logs, and exits non-zero if either command failed.
#
# Usage (as root, on a Debian host whose apt mirror is reachable):
#
#   tools/check_fresh_machine.sh [--keep] [--refresh-base]
#
#   --keep          keep the root (and print its path) instead of deleting it
#   --refresh-base  debootstrap a new pristine base instead of reusing the cached tarball
#
# The pristine debootstrap result is cached as /var/cache/ar1-fresh-root.tar (override with
# AR1_FRESH_CACHE); every check unpacks a new root from it, a root is never reused. Scratch
# space: AR1_FRESH_SCRATCH (default /var/tmp). Logs go to $scratch/ar1-fresh-logs.<time>/.
# The apt mirror is the one the host uses (its /etc/apt sources for bookworm). Expect 15-30
# minutes on 2 cores: the build, the tests, and the download of chromium for --tests.
set -euo pipefail

keep=0
refresh=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    --refresh-base) refresh=1 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "[fresh] unknown option $arg (known: --keep, --refresh-base)" >&2; exit 2 ;;
  esac
done

log() { echo "[fresh] $*"; }
die() { echo "[fresh] error: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap, mount and chroot need it)"

t_start=$EPOCHREALTIME
script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$script_dir" rev-parse --show-toplevel)"
head_sha="$(git -C "$repo" rev-parse HEAD)"
shared="$(cd "$repo/.." && pwd)/shared"
cache="${AR1_FRESH_CACHE:-/var/cache/ar1-fresh-root.tar}"
scratch_base="${AR1_FRESH_SCRATCH:-/var/tmp}"
suite=bookworm

# ---- the README's two commands ------------------------------------------------------------
# Every line inside the ```sh blocks between the "Two commands" heading and the next heading;
# a block is one command (the lines of a block stay lines). Records end with ASCII RS. Read
# from the committed README.md, the one the clone will have.
mapfile -d $'\036' -t commands < <(awk '
  /^#+[[:space:]]+Two commands/ { in_section = 1; next }
  in_section && /^#/ && !in_block { in_section = 0 }
  in_section && /^```sh[[:space:]]*$/ { in_block = 1; cmd = ""; next }
  in_section && in_block && /^```[[:space:]]*$/ { in_block = 0; printf "%s\036", cmd; next }
  in_section && in_block { cmd = (cmd == "" ? $0 : cmd "\n" $0) }
' <(git -C "$repo" show "$head_sha:README.md"))
((${#commands[@]} == 2)) ||
  die "expected 2 \`\`\`sh blocks under README.md's \"Two commands\" heading, found ${#commands[@]}"

# ---- the host's Debian mirror ---------------------------------------------------------------
# "URI SUITE" for each enabled deb source of the host (one-line .list and deb822 .sources).
host_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                       print $i, $(i + 1) }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk 'function flush(  u, s, nu, ns, a, b) {
           if (types ~ /(^| )deb( |$)/ && enabled != "no") {
             nu = split(uris, a, " "); ns = split(suites, b, " ")
             for (u = 1; u <= nu; u++) for (s = 1; s <= ns; s++) print a[u], b[s]
           }
           types = uris = suites = ""; enabled = "yes"
         }
         BEGIN { enabled = "yes" }
         /^[[:space:]]*$/ { flush(); next }
         /^#/ { next }
         tolower($1) == "types:"   { $1 = ""; types = $0 }
         tolower($1) == "uris:"    { $1 = ""; uris = $0 }
         tolower($1) == "suites:"  { $1 = ""; suites = $0 }
         tolower($1) == "enabled:" { enabled = tolower($2) }
         END { flush() }' "$f"
  done
}
mirror="$(host_sources | awk -v s="$suite" '$2 == s { print $1; exit }')"
security="$(host_sources | awk -v s="$suite-security" '$2 == s { print $1; exit }')"
[[ -n $mirror ]] || die "no '$suite' source in the host's /etc/apt sources"
mirror="${mirror%/}"
security="${security%/}"

# ---- cleanup --------------------------------------------------------------------------------
work=""        # scratch folder of this check (holds the root)
root=""        # the chroot
mounted=()     # mount points, in mount order
cleanup_ok=1
teardown() { # unmount all, check with findmnt, delete the root unless --keep; idempotent
  local i p left
  [[ -n $root ]] || return 0
  # Processes left running inside the root (a daemon a package started) hold the mounts.
  for p in /proc/[0-9]*; do
    if [[ $(readlink "$p/root" 2>/dev/null) == "$root" ]]; then
      kill -9 "${p#/proc/}" 2>/dev/null || true
    fi
  done
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" ||
      echo "[fresh] could not unmount ${mounted[i]}" >&2
  done
  mounted=()
  left="$(findmnt -rn -o TARGET | awk -v r="$root/" 'index($0 "/", r) == 1')"
  if [[ -n $left ]]; then
    echo "[fresh] still mounted, NOT deleting $work:" >&2
    echo "$left" >&2
    cleanup_ok=0
  elif ((keep)); then
    log "nothing left mounted (findmnt); kept the root: $root"
  else
    rm -rf --one-file-system "$work"
    log "nothing left mounted (findmnt); deleted the root $work"
  fi
  root=""
}
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  teardown
  ((cleanup_ok)) || ((rc)) || rc=1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- debootstrap on the host ----------------------------------------------------------------
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap on the host"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
  fi
fi

# ---- a pristine root ------------------------------------------------------------------------
mkdir -p "$scratch_base"
work="$(mktemp -d "$scratch_base/ar1-fresh.XXXXXX")"
root="$work/root"
mkdir "$root"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
logs="$scratch_base/ar1-fresh-logs.$stamp"
mkdir -p "$logs"

if ((refresh)) || [[ ! -s $cache ]]; then
  log "debootstrap $suite (minbase + ca-certificates) from $mirror (log: $logs/debootstrap.log)"
  if ! debootstrap --variant=minbase --include=ca-certificates "$suite" "$root" "$mirror" \
    >"$logs/debootstrap.log" 2>&1; then
    tail -n 40 "$logs/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  # What a fresh machine's apt sees: the host's mirror, with updates and security.
  rm -f "$root/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n' \
      "$mirror" "$suite" "$suite"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [[ -n $security ]]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' \
        "$security" "$suite"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } >"$root/etc/apt/sources.list.d/debian.sources"
  # A chroot must not start daemons (a package's service) in the host's process space.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages
  mkdir -p "$(dirname "$cache")"
  tar --numeric-owner --xattrs -C "$root" -cpf "$cache.tmp" . && mv "$cache.tmp" "$cache"
  log "cached the pristine base as $cache ($(du -h "$cache" | cut -f1))"
  base_from="debootstrap (cached now)"
else
  log "unpacking the cached pristine base $cache (--refresh-base for a new one)"
  tar --numeric-owner --xattrs -C "$root" -xpf "$cache"
  base_from="cache $cache ($(date -u -r "$cache" +%F\ %H:%MZ))"
fi

# ---- the repository: a clean clone of HEAD, with shared/ beside it ---------------------------
top=/work/ar1
log "cloning $repo at ${head_sha:0:12} into the root as $top"
mkdir -p "$root/work"
git clone -q --no-checkout --no-hardlinks "$repo" "$root$top"
git -C "$root$top" -c advice.detachedHead=false checkout -q "$head_sha"
if [[ -d $shared ]]; then
  cp -a "$shared" "$root/work/shared"
else
  log "warning: no $shared to copy beside the clone"
fi

# ---- mounts ---------------------------------------------------------------------------------
do_mount() { # do_mount TARGET MOUNT-ARGS...
  local target="$1"
  shift
  mount "$@" "$target"
  mounted+=("$target")
}
do_mount "$root/proc" -t proc proc
do_mount "$root/sys" -t sysfs sysfs
# The cgroup file systems a booted machine has (systemd mounts them; slurmd needs them), as a
# replica that does not pass mount events back to the host's.
if [[ -d /sys/fs/cgroup ]] && awk '$5 ~ "^/sys/fs/cgroup" {f = 1} END {exit !f}' /proc/self/mountinfo; then
  do_mount "$root/sys/fs/cgroup" --rbind /sys/fs/cgroup
  mount --make-rslave "$root/sys/fs/cgroup"
fi
do_mount "$root/dev" --bind /dev
do_mount "$root/dev/pts" --bind /dev/pts
do_mount "$root/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev tmpfs
rm -f "$root/etc/resolv.conf"
touch "$root/etc/resolv.conf"
do_mount "$root/etc/resolv.conf" --bind "$(readlink -f /etc/resolv.conf)"
# The host's own CA certificates (/usr/local/share/ca-certificates: e.g. a network that
# inspects TLS): a fresh machine on that network would have them too, and pip reaches PyPI
# over TLS (apt uses plain http). Debian's CAs stay as debootstrap installed them.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
fi

# ---- the two commands ------------------------------------------------------------------------
statuses=()
times=()
failed=0
for i in "${!commands[@]}"; do
  n=$((i + 1))
  cmd="${commands[i]}"
  out="$logs/command$n.log"
  log "command $n: $cmd"
  log "  running in $top (log: $out)"
  t0=$EPOCHREALTIME
  set +e
  chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "cd $top && $cmd" </dev/null >"$out" 2>&1
  status=$?
  set -e
  t1=$EPOCHREALTIME
  secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')"
  statuses+=("$status")
  times+=("$secs")
  log "  exit status $status, wall time $((secs / 60)) min $((secs % 60)) s"
  if ((status != 0)); then
    failed=1
    echo "[fresh] ---- last 60 lines of $out ----"
    tail -n 60 "$out"
    echo "[fresh] ----"
  fi
done

# ---- summary ---------------------------------------------------------------------------------
teardown
total="$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')"
echo
echo "== fresh Debian 12 check: $(git -C "$repo" log -1 --format='%h %s' "$head_sha" | cut -c1-80)"
echo "   base: $base_from; mirror: $mirror; logs: $logs"
printf '   %-3s %-74s %5s %8s\n' "#" "command (README.md, Two commands)" "exit" "wall"
for i in "${!commands[@]}"; do
  printf '   %-3s %-74s %5s %5d:%02d\n' "$((i + 1))" "${commands[i]}" "${statuses[i]}" \
    "$((times[i] / 60))" "$((times[i] % 60))"
done
printf '   total wall time of the check: %d:%02d\n' "$((total / 60))" "$((total % 60))"
if ((failed)) || ((!cleanup_ok)); then
  echo "   RESULT: FAILED$( ((cleanup_ok)) || echo ' (mounts left behind)')"
  exit 1
fi
echo "   RESULT: OK"
