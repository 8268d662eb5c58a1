# scripts/lib.sh: shared by scripts/demo and scripts/test. Every step is
# idempotent: it checks first and installs only what is missing, so a second
# run does no network access.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_updated=0
# need_apt PKG...: install the Debian packages that are not installed yet.
need_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    if [ $apt_updated -eq 0 ]; then
        $SUDO apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# need_pip 'name==version'...: install pinned PyPI packages that are missing or differ.
need_pip() {
    local missing=()
    for spec in "$@"; do
        local name="${spec%%==*}" want="${spec#*==}"
        local have
        have="$("$PY" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')"
        [ "${have%%+*}" = "$want" ] || missing+=("$spec")  # 2.13.0+cpu is 2.13.0
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing PyPI packages: ${missing[*]}"
    "$PY" -m pip install -q --disable-pip-version-check "${missing[@]}"
}

# What building ffq needs: a C compiler, libyaml, pkg-config, meson, ninja.
build_deps() {
    need_apt gcc libc6-dev libyaml-dev pkg-config
    command -v meson >/dev/null 2>&1 || need_pip meson==1.12.1
    command -v ninja >/dev/null 2>&1 || need_pip ninja==1.13.0
}

# meson setup (once) + compile. $1: build dir, rest: meson options.
build() {
    local dir="$1"
    shift
    # A build directory configured for another source tree is set up again.
    if [ -f "$ROOT/$dir/build.ninja" ] && ! grep -q -- "--internal regenerate $ROOT " "$ROOT/$dir/build.ninja" 2>/dev/null; then
        rm -rf "${ROOT:?}/$dir"
    fi
    if [ ! -f "$ROOT/$dir/build.ninja" ]; then
        say "configuring $dir"
        meson setup "$ROOT/$dir" "$ROOT" "$@" >/dev/null
    fi
    say "building $dir"
    local log
    log="$(mktemp)"
    if ! ninja -C "$ROOT/$dir" >"$log" 2>&1; then
        cat "$log" >&2  # ninja reports compiler errors on standard output
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}
