#!/usr/bin/env bash
# Refresh the vendored browser libraries from the npm registry (pinned versions, checked by
# npm's integrity hashes). Their output is committed, so the product never needs the network.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

vendor() {  # package version destination files...
  local package=$1 version=$2 dest=$3
  shift 3
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null)
  local tarball
  tarball=$(ls "$work"/*.tgz)
  mkdir -p "$work/x" "$dest"
  tar -xzf "$tarball" -C "$work/x"
  for file in "$@"; do
    mkdir -p "$dest/$(dirname "$file")"
    cp "$work/x/package/$file" "$dest/$file"
  done
  if [ -f "$work/x/package/LICENSE" ]; then
    cp "$work/x/package/LICENSE" "$dest/LICENSE"
  else  # some packages keep their licence text in the README
    cp "$work/x/package/README.md" "$dest/README.md"
  fi
  echo "$package@$version" > "$dest/VERSION"
  rm -rf "$work/x" "$tarball"
}

vendor leaflet 1.9.4 gis_planner/static/vendor/leaflet \
  dist/leaflet.js dist/leaflet.css \
  dist/images/layers.png dist/images/layers-2x.png \
  dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png

# Vector tiles in Leaflet; the bundled build includes its pbf and vector-tile dependencies.
vendor leaflet.vectorgrid 1.3.0 gis_planner/static/vendor/leaflet.vectorgrid \
  dist/Leaflet.VectorGrid.bundled.min.js

# The API's documentation page (/docs), served from here rather than from a CDN.
vendor swagger-ui-dist 5.35.0 gis_planner/static/vendor/swagger-ui-dist \
  swagger-ui-bundle.js swagger-ui.css
