#!/usr/bin/env bash
# RobotLab's JupyterHub on a fresh Debian 12 / Ubuntu 24.04 server, in one command (as root):
#
#   sudo deploy/setup.sh --settings skole.toml --roster 7a.csv --roster laerere.csv
#
# 1. installs Python, Node.js and npm from Debian (apt-get);
# 2. makes a Python venv in <prefix>/venv (open to all: pupils' servers run it) with
#    RobotLab (from this checkout) and the hub's packages from PyPI;
# 3. installs configurable-http-proxy 5 from npm into <prefix>/node;
# 4. copies deploy/ to <prefix>/deploy and writes <etc>/hub.toml from the settings file
#    (with the venv's Python and the proxy filled in);
# 5. makes a Unix account for everyone in each roster (python -m robotlab_hub.users add),
#    passwords in <etc>/<roster>-adgangskoder.csv (root only);
# 6. installs and starts the systemd unit robotlab-hub.service (or, with --foreground,
#    runs the hub in this terminal instead).
#
# Run it again after changing the settings or adding a roster: it only adds what is missing.
# Options (defaults in brackets):
#   --prefix DIR      where RobotLab's hub lives [/opt/robotlab]
#   --etc DIR         where hub.toml and the password lists go [/etc/robotlab]
#   --settings FILE   the school's settings (deploy/hub.example.toml documents them)
#                     [keep <etc>/hub.toml, else the example]
#   --roster FILE     a class list (CSV, column elev/id); repeat for more classes
#   --python-env DIR  use this existing Python environment, install nothing into it
#                     (developers and tests; the server's own install is the default)
#   --proxy FILE      use this configurable-http-proxy instead of installing it from npm
#   --no-apt          do not call apt-get (the Debian packages are there already)
#   --no-systemd      do not install the systemd unit
#   --unit-dir DIR    where the systemd unit goes [/etc/systemd/system]
#   --foreground      run the hub in this terminal at the end (Ctrl-C stops it)
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=/opt/robotlab
ETC=/etc/robotlab
SETTINGS=""
ROSTERS=()
PYENV=""
PROXY=""
APT=1
SYSTEMD=1
UNIT_DIR=/etc/systemd/system
FOREGROUND=0
HUB_PACKAGES=("jupyterhub>=5,<7" "jupyterhub-idle-culler>=2,<3"
              "jupyterlab-language-pack-da-DK>=4.2" "oauthenticator>=17,<18")

die() { echo "setup.sh: $*" >&2; exit 1; }
say() { echo "==> $*"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX="$2"; shift 2 ;;
        --etc) ETC="$2"; shift 2 ;;
        --settings) SETTINGS="$2"; shift 2 ;;
        --roster) ROSTERS+=("$2"); shift 2 ;;
        --python-env) PYENV="$2"; shift 2 ;;
        --proxy) PROXY="$2"; shift 2 ;;
        --no-apt) APT=0; shift ;;
        --no-systemd) SYSTEMD=0; shift ;;
        --unit-dir) UNIT_DIR="$2"; shift 2 ;;
        --foreground) FOREGROUND=1; shift ;;
        -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

[ "$(id -u)" = 0 ] || die "run me as root (sudo): I make Unix accounts and a system service"
[ -z "$SETTINGS" ] || [ -f "$SETTINGS" ] || die "no settings file $SETTINGS"
for roster in "${ROSTERS[@]+"${ROSTERS[@]}"}"; do
    [ -f "$roster" ] || die "no class list $roster"
done
SETTINGS="${SETTINGS:+$(realpath "$SETTINGS")}"
umask 022

# -- 1. Debian packages -----------------------------------------------------------------
if [ "$APT" = 1 ]; then
    packages=(python3 python3-venv python3-dev build-essential)
    # Node.js from elsewhere (NodeSource) brings its own npm, which Debian's npm conflicts with.
    command -v node >/dev/null || packages+=(nodejs)
    command -v npm >/dev/null || packages+=(npm)
    say "Debian packages: ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

mkdir -p "$PREFIX" "$ETC"
chmod 0755 "$PREFIX"
chmod 0755 "$ETC"

# -- 2. Python: RobotLab and the hub ----------------------------------------------------
if [ -n "$PYENV" ]; then
    PYTHON="$PYENV/bin/python"
    [ -x "$PYTHON" ] || die "no Python in $PYENV"
    say "Python: using $PYENV as it is"
else
    PYTHON="$PREFIX/venv/bin/python"
    if [ ! -x "$PYTHON" ]; then
        say "Python venv in $PREFIX/venv"
        /usr/bin/python3 -m venv "$PREFIX/venv"
    fi
    say "RobotLab and JupyterHub from PyPI (a few minutes the first time)"
    "$PYTHON" -m pip install -q --upgrade pip
    "$PYTHON" -m pip install -q "$SOURCE" "${HUB_PACKAGES[@]}"
    chmod -R a+rX "$PREFIX/venv"
fi
"$PYTHON" -c "import jupyterhub, robotlab, nbgrader" \
    || die "$PYTHON lacks jupyterhub, robotlab or nbgrader"

# -- 3. configurable-http-proxy ---------------------------------------------------------
if [ -z "$PROXY" ]; then
    say "configurable-http-proxy from npm in $PREFIX/node"
    mkdir -p "$PREFIX/node"
    cp "$SOURCE/deploy/node/package.json" "$PREFIX/node/package.json"
    npm install --prefix "$PREFIX/node" --no-audit --no-fund --silent --omit=dev
    PROXY="$PREFIX/node/node_modules/.bin/configurable-http-proxy"
fi
[ -x "$PROXY" ] || die "no configurable-http-proxy at $PROXY"

# -- 4. the hub's files and settings ----------------------------------------------------
say "hub files in $PREFIX/deploy"
mkdir -p "$PREFIX/deploy"
for part in jupyterhub_config.py hub.example.toml robotlab_hub singleuser; do
    rm -rf "${PREFIX:?}/deploy/$part"
    cp -r "$SOURCE/deploy/$part" "$PREFIX/deploy/$part"
done
find "$PREFIX/deploy" -name __pycache__ -prune -exec rm -rf {} +
chmod -R a+rX,go-w "$PREFIX/deploy"

HUB_TOML="$ETC/hub.toml"
if [ -n "$SETTINGS" ] || [ ! -f "$HUB_TOML" ]; then
    say "settings in $HUB_TOML"
    {
        echo "# Written by deploy/setup.sh from ${SETTINGS:-deploy/hub.example.toml}: edit that"
        echo "# file and run setup.sh again. Values set below override these two."
        echo "pupil_python = \"$PYTHON\""
        echo "proxy_command = \"$PROXY\""
        echo
        cat "${SETTINGS:-$SOURCE/deploy/hub.example.toml}"
    } > "$HUB_TOML.new"
    chmod 0644 "$HUB_TOML.new"
    mv "$HUB_TOML.new" "$HUB_TOML"
fi
hub_env() { env PYTHONPATH="$PREFIX/deploy" ROBOTLAB_HUB_SETTINGS="$HUB_TOML" "$@"; }
# The settings file is read once here, so a mistyped key stops setup, not the service.
read -r GROUP STATE < <(hub_env "$PYTHON" -c \
    "from robotlab_hub.settings import load; s = load(); print(s.unix_group, s.state_dir)") \
    || die "$HUB_TOML is not right (see above)"

# -- 5. accounts from the class lists ---------------------------------------------------
for roster in "${ROSTERS[@]+"${ROSTERS[@]}"}"; do
    name="$(basename "${roster%.*}")"
    say "accounts for $roster"
    (cd "$PREFIX/deploy" && hub_env "$PYTHON" -m robotlab_hub.users add "$roster" \
        --group "$GROUP" --passwords "$ETC/$name-adgangskoder.csv")
done

# -- 6. the service ---------------------------------------------------------------------
mkdir -p "$STATE"
chmod 0700 "$STATE"
COMMAND=("$PYTHON" -m jupyterhub -f "$PREFIX/deploy/jupyterhub_config.py")
if [ "$SYSTEMD" = 1 ]; then
    UNIT="$UNIT_DIR/robotlab-hub.service"
    mkdir -p "$UNIT_DIR"
    say "systemd unit $UNIT"
    cat > "$UNIT" <<EOF
[Unit]
Description=RobotLab JupyterHub (deploy/setup.sh)
After=network-online.target
Wants=network-online.target

[Service]
Environment=ROBOTLAB_HUB_SETTINGS=$HUB_TOML
Environment=PATH=$(dirname "$PYTHON"):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WorkingDirectory=$STATE
ExecStart=${COMMAND[*]}
Restart=on-failure
KillMode=mixed

[Install]
WantedBy=multi-user.target
EOF
    if [ -d /run/systemd/system ] && [ "$FOREGROUND" = 0 ] && \
            [ "$UNIT_DIR" = /etc/systemd/system ]; then
        systemctl daemon-reload
        systemctl enable --now robotlab-hub.service
        systemctl restart robotlab-hub.service
        say "running: systemctl status robotlab-hub"
    fi
fi
if [ "$FOREGROUND" = 1 ]; then
    say "starting the hub (Ctrl-C stops it)"
    cd "$STATE"
    exec env ROBOTLAB_HUB_SETTINGS="$HUB_TOML" PATH="$(dirname "$PYTHON"):$PATH" "${COMMAND[@]}"
fi
