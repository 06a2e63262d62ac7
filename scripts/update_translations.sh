#!/usr/bin/env bash
# Collect msgids into the zh_Hans catalogue and compile it.
set -euo pipefail
cd "$(dirname "$0")/../wuye"
uv run --quiet wuye manage makemessages -l zh_Hans --no-obsolete --no-location
uv run --quiet wuye manage compilemessages -l zh_Hans
