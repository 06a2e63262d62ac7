#!/usr/bin/env bash
# Rebuild the vendored front-end files in wuye/static/vendor from the npm registry.
# Versions are pinned in package.json / package-lock.json; commit the result so that
# running Wuye needs no Node. Usage: scripts/build_assets.sh
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --no-audit --no-fund --ignore-scripts

vendor=wuye/static/vendor
mkdir -p "$vendor"
htmx=node_modules/htmx.org
cp "$htmx/dist/htmx.min.js" "$vendor/htmx.min.js"
cp "$htmx/LICENSE" "$vendor/htmx.LICENSE"
version=$(node -p "require('./$htmx/package.json').version")
echo "htmx.org $version (licence 0BSD) — from the npm registry via scripts/build_assets.sh" \
  > "$vendor/README.txt"
echo "vendored htmx.org $version into $vendor"

# ECharts for the quality dashboard's charts.
echarts=node_modules/echarts
cp "$echarts/dist/echarts.min.js" "$vendor/echarts.min.js"
cp "$echarts/LICENSE" "$vendor/echarts.LICENSE"
version=$(node -p "require('./$echarts/package.json').version")
echo "echarts $version (licence Apache-2.0) — from the npm registry via scripts/build_assets.sh" \
  >> "$vendor/README.txt"
echo "vendored echarts $version into $vendor"
