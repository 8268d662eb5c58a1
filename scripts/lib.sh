# scripts/lib.sh: shared by scripts/demo and scripts/test. Every step is
# idempotent: it checks first and installs only what is missing, so a second
# run does no network access. Every step says what it installs; a step that
# fails says why and ends the script with a non-zero status.
#
# PYTHON=/path/to/python selects the interpreter whose packages are checked
# and installed (default: python3). tests/install/lib_test.py runs these
# functions against a new, empty venv that way.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
# Everything that depends on torch is installed under this constraint, so pip
# never resolves another torch (a newer one is a CUDA build of several GB).
CONSTRAINTS="$ROOT/scripts/constraints.txt"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() {
    printf '\033[1;31mffq setup: error: %s\033[0m\n' "$*" >&2
    exit 1
}

apt_updated=0
# need_apt PKG...: install the Debian packages that are not installed yet.
need_apt() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "Debian packages missing (${missing[*]}) and apt-get is not available"
    say "installing Debian packages: ${missing[*]}"
    if [ $apt_updated -eq 0 ]; then
        $SUDO apt-get update -qq || die "apt-get update failed (needed for: ${missing[*]})"
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        die "apt-get could not install: ${missing[*]}"
}

# The installed version of PyPI package $1 under $PY, or "" when it is not
# installed. Never fails: a missing package is an answer, not an error.
pip_version() {
    "$PY" - "$1" <<'PYEOF' 2>/dev/null || true
import sys
from importlib import metadata
try:
    print(metadata.version(sys.argv[1]))
except metadata.PackageNotFoundError:
    pass
PYEOF
}

# need_python: $PY runs and has pip (a new venv has it; Debian's python3 may not).
need_python() {
    if [ "$PY" = python3 ] && ! command -v python3 >/dev/null 2>&1; then
        need_apt python3 python3-pip python3-venv
    fi
    "$PY" -c 'import sys' 2>/dev/null || die "cannot run the Python interpreter '$PY' (set PYTHON=...)"
    if ! "$PY" -m pip --version >/dev/null 2>&1; then
        if [ "$(command -v "$PY")" = /usr/bin/python3 ]; then need_apt python3-pip; fi
        "$PY" -m pip --version >/dev/null 2>&1 || die "'$PY' has no pip (python -m pip fails)"
    fi
}

# Put the scripts directory of $PY on PATH (where pip puts meson and ninja).
use_python_scripts() {
    local dir
    dir="$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')" ||
        die "cannot ask '$PY' for its scripts directory"
    case ":$PATH:" in *":$dir:"*) ;; *) export PATH="$dir:$PATH" ;; esac
}

# need_pip 'name==version'...: install pinned PyPI packages that are missing or differ.
need_pip() {
    need_python
    local missing=() spec name want have
    for spec in "$@"; do
        case "$spec" in *==*) ;; *) die "need_pip: '$spec' is not pinned (name==version)" ;; esac
        name="${spec%%==*}" want="${spec#*==}"
        have="$(pip_version "$name")"
        [ "${have%%+*}" = "$want" ] || missing+=("$spec")  # 2.13.0+cpu is 2.13.0
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing PyPI packages into $("$PY" -c 'import sys; print(sys.prefix)'): ${missing[*]}"
    "$PY" -m pip install -q --disable-pip-version-check -c "$CONSTRAINTS" "${missing[@]}" ||
        die "pip could not install: ${missing[*]} (see pip's message above)"
    for spec in "${missing[@]}"; do
        name="${spec%%==*}" want="${spec#*==}"
        have="$(pip_version "$name")"
        [ "${have%%+*}" = "$want" ] || die "after pip install, $name is '${have:-not installed}', not $want"
    done
}

# What building ffq needs: a C compiler, libyaml, pkg-config, meson, ninja.
build_deps() {
    need_apt gcc libc6-dev libyaml-dev pkg-config
    command -v meson >/dev/null 2>&1 || need_pip meson==1.12.1
    command -v ninja >/dev/null 2>&1 || need_pip ninja==1.13.0
    command -v meson >/dev/null 2>&1 && command -v ninja >/dev/null 2>&1 || use_python_scripts
    command -v meson >/dev/null 2>&1 || die "meson is installed but not found on PATH"
    command -v ninja >/dev/null 2>&1 || die "ninja is installed but not found on PATH"
}

# What running ffq on a model and the generated code needs: torch (ffq reads
# torch's own source; the generated code imports it).
run_deps() {
    need_pip torch==2.13.0
}

# The venv of tests/models_e2e.py (.venv-models): real model libraries (transformers,
# timm, diffusers), pinned,
# over the torch of python3 (made with --system-site-packages; every install is
# under the torch==2.13.0 constraint, so torch itself never changes). timm needs
# torchvision, whose PyPI wheel cannot load its compiled operators beside the
# CPU-only torch: it is installed without dependencies and the test replaces the
# one module that registers those operators (see tests/models_e2e.py).
MODELS_VENV="$ROOT/.venv-models"
models_deps() {
    local base="${PYTHON:-python3}"
    if [ ! -x "$MODELS_VENV/bin/python" ]; then
        say "creating $MODELS_VENV (transformers, timm and diffusers for tests/models_e2e.py)"
        "$base" -m venv --system-site-packages "$MODELS_VENV" ||
            die "cannot create the venv $MODELS_VENV with $base"
    fi
    (
        PY="$MODELS_VENV/bin/python"
        need_pip torch==2.13.0
        need_pip transformers==5.22.2 pillow==12.3.0 huggingface_hub==2.4.0 safetensors==0.8.0 diffusers==0.42.1
        # timm and torchvision without their dependencies: pip would otherwise resolve
        # torchvision's own torch pin against the constraint file for nothing.
        local spec name want missing=()
        for spec in timm==1.0.31 torchvision==0.28.0; do
            name="${spec%%==*}" want="${spec#*==}"
            [ "$(pip_version "$name")" = "$want" ] || missing+=("$spec")
        done
        if [ ${#missing[@]} -gt 0 ]; then
            say "installing PyPI packages into $MODELS_VENV without dependencies: ${missing[*]}"
            "$PY" -m pip install -q --disable-pip-version-check --no-deps -c "$CONSTRAINTS" "${missing[@]}" ||
                die "pip could not install: ${missing[*]}"
        fi
    )
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
        local log
        log="$(mktemp)"
        if ! meson setup "$ROOT/$dir" "$ROOT" "$@" >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            die "meson setup $dir failed (see above)"
        fi
        rm -f "$log"
    fi
    say "building $dir"
    local log
    log="$(mktemp)"
    if ! ninja -C "$ROOT/$dir" >"$log" 2>&1; then
        cat "$log" >&2  # ninja reports compiler errors on standard output
        rm -f "$log"
        die "building $dir failed (see above)"
    fi
    rm -f "$log"
}
