#!/usr/bin/env bash
# How the national commune-list run grows with the layer's vertices: the 2018
# layer as given (1x) and densified 4x and 8x by ../shared/tools/densify.py (as
# full-resolution Admin Express is; shared borders stay vertex for vertex),
# three runs each, side by side in one session: wall time, peak memory, and both
# per million vertices, with the stages of --timings.
#
#   bash benches/scaling.sh [DIR]     # DIR keeps the densified layers (default /tmp/maillage-dense)
#   WITH_16=1 bash benches/scaling.sh # and the 16x layer (35 M vertices), once per round
#
# Making the 8x layer takes about 2 minutes, once; the 16x layer about 5.
set -euo pipefail
cd "$(dirname "$0")/.."
dense=${1:-/tmp/maillage-dense}
mkdir -p "$dense"
src=../shared/data/communes-france-2018.geojson.gz
cargo build --release --quiet
sizes="4 8"
[ "${WITH_16:-0}" = 1 ] && sizes="4 8 16"
for k in $sizes; do
  [ -s "$dense/x$k.geojson.gz" ] || python3 ../shared/tools/densify.py "$src" "$dense/x$k.geojson.gz" "$k"
done
vertices() {
  [ -s "$1.vertices" ] || python3 - "$1" > "$1.vertices" <<'PY'
import gzip, json, sys
fc = json.load(gzip.open(sys.argv[1], "rt"))
n = 0
for f in fc["features"]:
    g = f["geometry"] or {"type": "none"}
    polys = [g["coordinates"]] if g["type"] == "Polygon" else g.get("coordinates", []) if g["type"] == "MultiPolygon" else []
    n += sum(len(r) for p in polys for r in p)
print(n)
PY
  cat "$1.vertices"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-6s %10s %8s %9s %12s %12s\n' layer vertices wall_s peak_MiB s_per_Mvert MiB_per_Mvert
for round in 1 2 3; do
  layers="$src"
  for k in $sizes; do layers="$layers $dense/x$k.geojson.gz"; done
  for layer in $layers; do
    v=$(vertices "$layer")
    /usr/bin/time -f "%e %M" -o "$tmp/time" target/release/maillage analyze --quiet --timings \
      --communes "$layer" --cpts fixtures/national/declarations.csv.gz \
      --population fixtures/national/population.csv.gz --out "$tmp/out" 2> "$tmp/stages"
    read -r wall peak < "$tmp/time"
    name=$(basename "$layer" .geojson.gz)
    python3 -c "
v, w, p = $v, $wall, $peak / 1024
print(f'{\"$name\"[:6]:<6} {v:>10} {w:>8.2f} {p:>9.0f} {w / (v / 1e6):>12.3f} {p / (v / 1e6):>12.1f}')"
    [ "$round" = 1 ] && tr -s ' ' < "$tmp/stages" | tr '\n' ';' && echo
  done
done
