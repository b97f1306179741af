#!/usr/bin/env bash
# Installs the moto AWS emulator (server mode) into <repo>/.emulator/moto without PyPI or Docker.
#
#   bash scripts/emulator/install-moto.sh          # install, or a fast no-op when already installed
#   MOTO_REINSTALL=1 bash scripts/emulator/install-moto.sh   # force a fresh download/unpack
#
# How (Debian 12 has no python3-moto):
#   1. moto's compiled and web dependencies come from the machine's own Debian release (apt-get install).
#   2. moto and its pure-Python companions (Architecture: all) are fetched with `apt-get download`
#      from a newer Debian suite through a PRIVATE apt configuration under .emulator/apt/. Its
#      sources entry reuses the mirror URI and keyring of the machine's own apt sources with the suite
#      name swapped. The system's apt sources are never modified.
#   3. The .debs are unpacked with `dpkg-deb -x` into .emulator/moto (git-ignored) and used through
#      PYTHONPATH=.emulator/moto/usr/lib/python3/dist-packages with Debian's /usr/bin/python3.
#
# Overrides: MOTO_SUITE (default sid), MOTO_APT_URI (mirror base URI, default: parsed from the system).
set -euo pipefail

# ---- tested versions (from Debian sid, 2026-11-24) --------------------------------------------
MOTO_SUITE="${MOTO_SUITE:-sid}"
declare -A PINNED=(
  [python3-moto]="5.2.4-2"
  [python3-botocore]="1.43.117+repack-1"
  [python3-boto3]="1.40.72-1"
  [python3-s3transfer]="0.14.0-1"
  [python3-jsonpath-ng]="1.11.0+ds-1"   # EventBridge InputTransformer, Step Functions (vendors ply)
)
# Order matters only for the log.
DOWNLOAD_PKGS=(python3-moto python3-botocore python3-boto3 python3-s3transfer python3-jsonpath-ng)

# From the machine's own release. First group: needed by moto core/server and botocore
# (flask, flask-cors, werkzeug, cryptography, requests, responses, xmltodict; dateutil, jmespath,
# urllib3 for botocore; jinja2 for Flask and the /moto-api dashboard; six for dateutil).
# Second group: cheap optional extras that some services import lazily (yaml: SSM/CloudFormation/
# OSIS, pyparsing: Glue, antlr4: Step Functions parser, ply: older jsonpath-ng).
SYSTEM_PKGS=(
  python3 python3-flask python3-flask-cors python3-werkzeug python3-cryptography python3-requests
  python3-responses python3-xmltodict python3-dateutil python3-jmespath python3-urllib3
  python3-jinja2 python3-six
  python3-yaml python3-pyparsing python3-antlr4 python3-ply
)
# -------------------------------------------------------------------------------------------------

START_NS=$(date +%s%N)
elapsed() { echo "$(( ($(date +%s%N) - START_NS) / 1000000 ))" | awk '{printf "%.1f s", $1/1000}'; }
log() { echo "[install-moto] $*"; }
warn() { echo "[install-moto] WARNING: $*" >&2; }
die() { echo "[install-moto] ERROR: $*" >&2; exit 1; }

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
EMU_DIR="$REPO_ROOT/.emulator"
MOTO_DIR="$EMU_DIR/moto"
SITE_DIR="$MOTO_DIR/usr/lib/python3/dist-packages"
STAMP="$MOTO_DIR/.installed"
PY=/usr/bin/python3

WANT_KEY="suite=$MOTO_SUITE"
for p in "${DOWNLOAD_PKGS[@]}"; do WANT_KEY+=" $p=${PINNED[$p]}"; done

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "run as root (or install sudo): apt-get install is needed"
  SUDO=(sudo)
fi

missing_system_pkgs() {
  local installed p
  # dpkg-query exits 1 when any package is unknown to it, which is the case this looks for: under
  # `set -e -o pipefail` that would end the function silently and report nothing missing.
  installed=" $( (dpkg-query -W -f='${Package}:${Status}\n' "${SYSTEM_PKGS[@]}" 2>/dev/null || true) \
    | awk -F: '$2 == "install ok installed" {printf "%s ", $1}')"
  for p in "${SYSTEM_PKGS[@]}"; do
    [[ "$installed" == *" $p "* ]] || echo "$p"
  done
}

# ---- fast path ------------------------------------------------------------------------------------
if [ "${MOTO_REINSTALL:-0}" != "1" ] && [ -f "$STAMP" ] && [ "$(head -n1 "$STAMP")" = "$WANT_KEY" ] \
   && [ -f "$SITE_DIR/moto/__init__.py" ] && [ -x "$PY" ] && [ -z "$(missing_system_pkgs)" ]; then
  log "already installed ($(sed -n 2p "$STAMP")); nothing to do ($(elapsed))"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive

# ---- 1. system dependencies from the machine's own release ------------------------------------------
mapfile -t MISSING < <(missing_system_pkgs)
if [ "${#MISSING[@]}" -gt 0 ]; then
  log "installing from the system's Debian release: ${MISSING[*]}"
  need_update=0
  for p in "${MISSING[@]}"; do
    cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/{print $2}')"
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then need_update=1; break; fi
  done
  if [ "$need_update" = 1 ]; then
    log "apt lists lack some packages: apt-get update"
    "${SUDO[@]}" apt-get update -qq
  fi
  if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null; then
    # Stale lists (404 on a superseded .deb): refresh once and retry.
    warn "apt-get install failed; running apt-get update and retrying"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
  fi
  log "system packages done ($(elapsed))"
fi
[ -x "$PY" ] || die "$PY not found after installing python3"

# ---- 2. private apt configuration for the newer suite ---------------------------------------------
APT_DIR="$EMU_DIR/apt"
mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/preferences.d" "$APT_DIR/lists/partial" \
         "$APT_DIR/cache/archives/partial" "$APT_DIR/debs"
: > "$APT_DIR/status"
: > "$APT_DIR/sources.list"

# Find the machine's Debian entry for its own release (deb822 *.sources or one-line *.list files) and
# write a deb822 entry with the same URI and keyring but Suites: $MOTO_SUITE.
MOTO_SUITE="$MOTO_SUITE" MOTO_APT_URI="${MOTO_APT_URI:-}" "$PY" - "$APT_DIR/sources.list.d/moto.sources" <<'PYEOF'
import glob, os, re, sys

out_path = sys.argv[1]
suite = os.environ["MOTO_SUITE"]
codename = ""
try:
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                codename = line.split("=", 1)[1].strip().strip('"')
except OSError:
    pass

def deb822_stanzas(text):
    key = None
    fields = {}
    for raw in text.splitlines() + [""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if fields:
                yield fields
            fields, key = {}, None
            continue
        if raw[0] in " \t" and key:
            fields[key] += "\n" + raw
            continue
        if ":" in raw:
            key, val = raw.split(":", 1)
            key = key.strip().lower()
            fields[key] = val.strip()

candidates = []  # (score, uri, signed_by_value_or_None, is_inline)
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    try:
        text = open(path).read()
    except OSError:
        continue
    for st in deb822_stanzas(text):
        if st.get("enabled", "yes").strip().lower() == "no":
            continue
        if "deb" not in st.get("types", "").split():
            continue
        suites = st.get("suites", "").split()
        comps = st.get("components", "").split()
        for uri in st.get("uris", "").split():
            score = (2 if codename and codename in suites else 0) + (1 if "main" in comps else 0)
            candidates.append((score, uri, st.get("signed-by")))

list_files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
for path in list_files:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        opts = {}
        m = re.match(r"deb\s+\[([^\]]*)\]\s+(.*)", line)
        if m:
            for o in m.group(1).split():
                if "=" in o:
                    k, v = o.split("=", 1)
                    opts[k.strip().lower()] = v.strip()
            rest = m.group(2).split()
        else:
            rest = line.split()[1:]
        if len(rest) < 2:
            continue
        uri, dist, comps = rest[0], rest[1], rest[2:]
        score = (2 if codename and dist == codename else 0) + (1 if "main" in comps else 0)
        candidates.append((score, uri, opts.get("signed-by")))

override = os.environ.get("MOTO_APT_URI", "").strip()
if override:
    best = next((c for c in sorted(candidates, key=lambda c: -c[0])), (0, override, None))
    uri, signed_by = override, best[2]
else:
    good = [c for c in candidates if c[0] >= 2]
    if not good:
        sys.exit("no apt source for the system release '%s' found in /etc/apt (set MOTO_APT_URI)" % codename)
    good.sort(key=lambda c: -c[0])
    _, uri, signed_by = good[0]

lines = ["Types: deb", "URIs: " + uri, "Suites: " + suite, "Components: main"]
if signed_by:
    # A path or an inline key block: both are copied verbatim (continuation lines kept).
    lines.append("Signed-By: " + signed_by)
with open(out_path, "w") as f:
    f.write("\n".join(lines) + "\n")
PYEOF

ARCH="$(dpkg --print-architecture)"
APT_OPTS=(
  -o "Dir::Etc::SourceList=$APT_DIR/sources.list"
  -o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d"
  -o "Dir::Etc::Preferences=$APT_DIR/preferences"
  -o "Dir::Etc::PreferencesParts=$APT_DIR/preferences.d"
  -o "Dir::State::Lists=$APT_DIR/lists"
  -o "Dir::State::status=$APT_DIR/status"
  -o "Dir::Cache=$APT_DIR/cache"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  -o "APT::Architectures=$ARCH" -o "APT::Architecture=$ARCH"
  -o "Acquire::Languages=none"
  -o "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false"
  -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
  -o "APT::Sandbox::User=$(id -un)"
)
: > "$APT_DIR/preferences"

log "apt-get update (private config, suite $MOTO_SUITE)"
apt-get "${APT_OPTS[@]}" update -qq || die "private apt-get update for suite $MOTO_SUITE failed"

# ---- 3. resolve versions (pinned, else newest with a warning) and download ----------------------------
SPECS=()
RESOLVED=""
for p in "${DOWNLOAD_PKGS[@]}"; do
  want="${PINNED[$p]}"
  versions="$(apt-cache "${APT_OPTS[@]}" madison "$p" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}')"
  [ -n "$versions" ] || die "$p is not available in suite $MOTO_SUITE"
  if grep -qxF "$want" <<<"$versions"; then
    ver="$want"
  else
    ver="$(apt-cache "${APT_OPTS[@]}" policy "$p" | awk '/Candidate:/{print $2}')"
    warn "$p $want is gone from $MOTO_SUITE; using the newest available $ver (untested)"
  fi
  SPECS+=("$p=$ver")
  RESOLVED+="$p=$ver "
done

DEB_DIR="$APT_DIR/debs"
rm -f "$DEB_DIR"/*.deb
log "apt-get download ${SPECS[*]}"
(cd "$DEB_DIR" && apt-get "${APT_OPTS[@]}" download -qq "${SPECS[@]}") \
  || die "apt-get download failed"

# ---- 4. unpack into a staging dir, verify, then swap into place -----------------------------------------
STAGE="$EMU_DIR/moto.new"
rm -rf "$STAGE"
mkdir -p "$STAGE"
for deb in "$DEB_DIR"/*.deb; do
  dpkg-deb -x "$deb" "$STAGE"
done

# Precompile (~4 s): the environment may set PYTHONDONTWRITEBYTECODE, and moto imports each service's
# backend lazily on its first request, so this saves ~0.3 s per server start and on each first call.
# -s/-p make tracebacks show the final path instead of the staging one.
"$PY" -m compileall -q -j 0 -s "$STAGE" -p "$MOTO_DIR" "$STAGE/usr/lib/python3/dist-packages" >/dev/null \
  || warn "precompiling the Python files failed; moto will still work, just start slower"

verify() {
  PYTHONPATH="$1/usr/lib/python3/dist-packages" "$PY" -c \
    'import moto, moto.server, botocore; print(moto.__version__, "botocore", botocore.__version__)'
}
if ! VERSIONS="$(verify "$STAGE")"; then
  die "unpacked moto does not import (see the traceback above)"
fi

rm -rf "$MOTO_DIR"
mv "$STAGE" "$MOTO_DIR"
printf '%s\n%s\n' "$WANT_KEY" "${RESOLVED% }" > "$STAMP"
rm -f "$DEB_DIR"/*.deb
rm -rf "$APT_DIR/lists" "$APT_DIR/cache"   # ~25 MB of indexes, refetched on the next install

# The check documented for users of this script:
MOTO_VER="$(cd "$REPO_ROOT" && PYTHONPATH=.emulator/moto/usr/lib/python3/dist-packages "$PY" -c 'import moto, moto.server; print(moto.__version__)')"
log "moto $MOTO_VER installed into .emulator/moto ($VERSIONS; from suite $MOTO_SUITE) in $(elapsed)"
