#!/usr/bin/env bash
# Build the one-folder desktop bundle into dist/ctxlab from a clean virtual environment, then
# check it: --version, the --smoke run (every panel draws, one chart exports) and, when the
# validators are installed, the desktop entry and AppStream metainfo.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf build/bundle-venv dist/ctxlab
python3 -m venv build/bundle-venv
build/bundle-venv/bin/pip install --quiet '.[bundle]'
build/bundle-venv/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyi \
    packaging/ctxlab.spec
dist/ctxlab/ctxlab --version
smoke_home=$(mktemp -d)  # settings written by the smoke run stay out of the user's config
HOME="$smoke_home" XDG_CONFIG_HOME="$smoke_home" QT_QPA_PLATFORM=offscreen dist/ctxlab/ctxlab --smoke
rm -rf "$smoke_home"
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate packaging/io.github.ctxlab.Ctxlab.desktop && echo "desktop entry: valid"
fi
if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net packaging/io.github.ctxlab.Ctxlab.metainfo.xml
fi
# desktop integration files travel inside the bundle, then one tarball to download
share=dist/ctxlab/share
install -Dm644 packaging/io.github.ctxlab.Ctxlab.desktop "$share/applications/io.github.ctxlab.Ctxlab.desktop"
install -Dm644 packaging/io.github.ctxlab.Ctxlab.metainfo.xml "$share/metainfo/io.github.ctxlab.Ctxlab.metainfo.xml"
install -Dm644 packaging/io.github.ctxlab.Ctxlab.svg \
    "$share/icons/hicolor/scalable/apps/io.github.ctxlab.Ctxlab.svg"
version=$(dist/ctxlab/ctxlab --version | cut -d' ' -f2)
tar -C dist -czf "dist/ctxlab-$version-linux-$(uname -m).tar.gz" ctxlab
du -sh dist/ctxlab "dist/ctxlab-$version-linux-$(uname -m).tar.gz"
