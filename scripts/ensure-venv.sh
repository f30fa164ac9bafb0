#!/usr/bin/env bash
# Create the virtualenv with the first Python >= 3.12 that actually runs.
set -euo pipefail
venv=${1:-.venv}
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
  exit 0
fi
for candidate in python3.13 python3.12 python3; do
  if command -v "$candidate" >/dev/null 2>&1 \
     && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
    echo "Creating $venv with $("$candidate" --version)"
    rm -rf "$venv"
    "$candidate" -m venv "$venv"
    exit 0
  fi
done
echo "Kehu needs Python 3.12 or newer. Install python3.13 (Debian 13: apt install python3;" >&2
echo "macOS: brew install python@3.13; elsewhere: pyenv install 3.13) and run make again." >&2
exit 1
