#!/usr/bin/env bash
# Colab's default runtime, simulated: run every chapter's install cell as Colab would, then
# check every chapter's outputs with nbval.
#
#   1. a fresh Python 3.13 environment with what Colab preinstalls (tests/colab/preinstalled.txt:
#      NumPy 2.1.3, matplotlib 3.10.0, pandas 2.2.3, IPython 7.34.0, ...), pip talking to PyPI
#      with no local configuration, and a stand-in `google.colab` that each kernel imports at
#      start, as Colab's does; no nvidia-smi (a CPU runtime);
#   2. the chapters' first cell runs unchanged: git, which pip uses to fetch
#      "seq2seq-attention @ git+<repository URL>", is told to fetch this checkout instead
#      (url.<checkout>.insteadOf <URL>; a snapshot of the working tree, uncommitted changes too);
#   3. pytest --nbval on the chapters (CHAPTERS="book/01_... book/02_..." to pick some);
#   4. no package Colab preinstalls was replaced (so no runtime restart is needed), and the
#      library came from the install cell, not from this checkout's src/;
#   5. the cell on a GPU runtime: with an nvidia-smi that succeeds, the pip commands it runs
#      (recorded by a stand-in pip, since the 2 GB of CUDA wheels cannot be installed here) are
#      the GPU extra and mxnet-cu112.
# Needs Python 3.13 (COLAB_PYTHON, `pyenv prefix 3.13`, or python3.13 on PATH), git and PyPI.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

PY="${COLAB_PYTHON:-}"
if [ -z "$PY" ] && command -v pyenv >/dev/null 2>&1; then
    prefix="$(pyenv prefix "$(pyenv versions --bare | grep -E '^3\.13(\.[0-9]+)?$' | tail -1)" \
              2>/dev/null || true)"
    [ -n "$prefix" ] && PY="$prefix/bin/python3"
fi
PY="${PY:-$(command -v python3.13 || true)}"
if [ -z "$PY" ] || ! "$PY" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
    echo "colab simulation: needs Python 3.13 (set COLAB_PYTHON, or install it: pyenv install 3.13)" >&2
    exit 1
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/colab-simulation.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
VENV="$WORK/runtime"
CHAPTERS="${CHAPTERS:-$(ls book/*.ipynb | tr '\n' ' ')}"
URL="$("$PY" -c 'import re, sys; print(re.search(r"^\s+url:\s*(\S+)", open("_config.yml").read(), re.M).group(1).rstrip("/"))')"

# pip as on Colab: PyPI only, none of this machine's pip settings, no "new release" notice
for var in $(env | grep -o '^PIP_[A-Z_]*' || true); do unset "$var"; done
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1

echo "== 1. a Colab-like runtime: $("$PY" --version), $VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q pip==24.1.2
# Colab's packages, and the test harness (nbval and what it needs beyond them)
"$VENV/bin/python" -m pip install -q -r tests/colab/preinstalled.txt nbval==0.11.0 coverage==7.17.3
"$VENV/bin/python" -m pip freeze > "$WORK/before.txt"
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cp -r tests/colab/standin/google "$SITE/"
export IPYTHONDIR="$WORK/ipython"
mkdir -p "$IPYTHONDIR/profile_default/startup"
echo 'import google.colab  # noqa: F401  (as Colab kernels do at start)' \
    > "$IPYTHONDIR/profile_default/startup/00-google-colab.py"
mkdir -p "$WORK/cpu-bin"
printf '#!/bin/sh\necho "nvidia-smi: no GPU (simulated CPU runtime)" >&2\nexit 9\n' \
    > "$WORK/cpu-bin/nvidia-smi"
chmod +x "$WORK/cpu-bin/nvidia-smi"

echo "== 2. $URL -> a snapshot of $ROOT"
SNAPSHOT="$WORK/checkout"
mkdir -p "$SNAPSHOT"
git ls-files -z --cached --others --exclude-standard \
    | "$PY" -c 'import os, sys; sys.stdout.write("\0".join(p for p in sys.stdin.read().split("\0") if p and os.path.isfile(p)))' \
    | tar --null -T - -cf - | tar -xf - -C "$SNAPSHOT"
git -C "$SNAPSHOT" init -q
git -C "$SNAPSHOT" add -A
git -C "$SNAPSHOT" -c user.name=simulation -c user.email=simulation@localhost commit -q -m snapshot
export GIT_CONFIG_GLOBAL="$WORK/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global url."file://$SNAPSHOT".insteadOf "$URL"

echo "== 3. nbval on: $CHAPTERS"
PATH="$WORK/cpu-bin:$VENV/bin:$PATH" "$VENV/bin/python" -m pytest -p no:cacheprovider \
    --nbval --nbval-sanitize-with book/nbval-sanitize.cfg $CHAPTERS

echo "== 4. nothing Colab preinstalls was replaced; the library came from the install cell"
"$VENV/bin/python" -m pip freeze > "$WORK/after.txt"
"$PY" - "$WORK/before.txt" "$WORK/after.txt" "$SITE" <<'EOF'
import sys
before, after = ({l.split('==')[0].lower(): l.strip() for l in open(p) if '==' in l}
                 for p in sys.argv[1:3])
changed = sorted(before[n] + ' -> ' + after.get(n, 'removed') for n in before
                 if after.get(n) != before[n])
if changed:
    sys.exit(f'the install cell replaced preinstalled packages (a restart would be needed): '
             f'{changed}')
print('added by the install cell:', ', '.join(sorted(after[n] for n in after if n not in before)))
EOF
"$VENV/bin/python" - "$(git -C "$SNAPSHOT" rev-parse HEAD)" "$URL" <<'EOF'
import importlib.metadata as md, json, sys
direct = json.loads(md.distribution('seq2seq-attention').read_text('direct_url.json') or '{}')
# pip records the URL as the cell wrote it; git fetched the snapshot's commit in its place
assert direct.get('url') == sys.argv[2], direct
assert direct.get('vcs_info', {}).get('commit_id') == sys.argv[1], direct
print(f'seq2seq-attention installed from {sys.argv[2]}, commit {sys.argv[1][:12]} (the snapshot)')
EOF

echo "== 5. the install cell on a GPU runtime (pip recorded, not run)"
mkdir -p "$WORK/gpu-bin"
printf '#!/bin/sh\nexit 0\n' > "$WORK/gpu-bin/nvidia-smi"
printf '#!/bin/sh\necho "$@" >> "%s"\n' "$WORK/pip-calls.txt" > "$WORK/gpu-bin/pip"
chmod +x "$WORK/gpu-bin/nvidia-smi" "$WORK/gpu-bin/pip"
"$VENV/bin/python" -c "
import json, sys
cells = [c for c in json.load(open('${CHAPTERS%% *}'))['cells'] if c['cell_type'] == 'code']
open('$WORK/install_cell.ipy', 'w').write(''.join(cells[0]['source']))"
PATH="$WORK/gpu-bin:$VENV/bin:$PATH" "$VENV/bin/ipython" --quick --no-banner --TerminalInteractiveShell.term_title=False \
    -c "import google.colab; get_ipython().safe_execfile_ipy('$WORK/install_cell.ipy', raise_exceptions=True)"
cat "$WORK/pip-calls.txt"
grep -q -- "seq2seq-attention\[gpu\] @ git+$URL" "$WORK/pip-calls.txt"
grep -q -- "--no-deps mxnet-cu112==1.9.1 d2l==1.0.3" "$WORK/pip-calls.txt"
echo "colab simulation: passed"
