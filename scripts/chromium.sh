#!/usr/bin/env bash
# Debian's chromium (and an emoji font, for reactions) for the browser tests (tests/browser),
# installed once on a fresh machine.
# Playwright drives it through executable_path=/usr/bin/chromium: it never downloads a browser.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/noto ]; then exit 0; fi
echo "Installing Debian's chromium for the browser tests (apt-get, needs root)..." >&2
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }; then
  echo "error: could not install chromium with apt-get; install Debian's 'chromium' and" \
    "'fonts-noto-color-emoji' packages (so that /usr/bin/chromium exists) and run the tests again" >&2
  exit 1
fi
