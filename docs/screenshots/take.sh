#!/usr/bin/env bash
# Screenshots of the built site (make docs first) in headless Chromium:
#   apt-get install -y chromium && docs/screenshots/take.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
shoot() {  # page, output, window size
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --hide-scrollbars --window-size="$3" \
        --screenshot="docs/screenshots/$2" "file://$PWD/site/$1" 2>/dev/null
}
shoot index.html home.png 1400,1800
shoot api/bidirectional.html bidirectional_api.png 1400,2400
