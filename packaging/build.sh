#!/usr/bin/env bash
# Build the one-folder desktop bundle into dist/ctxlab from a clean virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf build/bundle-venv dist/ctxlab
python3 -m venv build/bundle-venv
build/bundle-venv/bin/pip install --quiet '.[bundle]'
build/bundle-venv/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyi \
    packaging/ctxlab.spec
dist/ctxlab/ctxlab --version
du -sh dist/ctxlab
