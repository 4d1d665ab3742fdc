#!/usr/bin/env bash
# Times the whole national run with the release binary, side by side with the
# geopandas peer, on the same inputs and machine. Prints wall time and peak memory
# of each run; compare ratios, not absolute figures (these machines are noisy).
#
#   bash benches/national.sh [runs]         # default 5 runs of maillage, 1 of the peer
#
# Needs ../shared/data (the national communes) and, for the peer,
# `pip install geopandas shapely pyogrio pyproj pandas pyarrow`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shared=../shared
communes=$shared/data/communes-france-2018.geojson.gz
[ -f "$communes" ] || { echo "no $communes: the national run needs ../shared/data" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --quiet
measure() { /usr/bin/time -f "%e s wall, %M KiB peak" "$@" 2>&1 >/dev/null | tail -1; }
for i in $(seq "$runs"); do
  printf 'maillage run %s: ' "$i"
  measure target/release/maillage analyze --quiet --communes "$communes" \
    --cpts fixtures/national/declarations.csv.gz --population fixtures/national/population.csv.gz \
    --out "$tmp/maillage"
done
for i in $(seq "$runs"); do
  printf 'maillage run %s with --map --report: ' "$i"
  measure target/release/maillage analyze --quiet --communes "$communes" \
    --cpts fixtures/national/declarations.csv.gz --population fixtures/national/population.csv.gz \
    --out "$tmp/maillage-maps" --map --report
done
ls -l "$tmp/maillage-maps/map.svg" "$tmp/maillage-maps/map.png" "$tmp/maillage-maps/report.html" | awk '{print "  " $5 " bytes " $9}'
printf 'maillage, 609 drawn CPTS: '
measure target/release/maillage analyze --quiet --communes "$communes" \
  --cpts fixtures/national/drawn.geojson.gz --population fixtures/national/population.csv.gz \
  --out "$tmp/maillage-drawn"
if python3 -c "import geopandas, pyproj" 2>/dev/null; then
  zcat fixtures/national/declarations.csv.gz > "$tmp/decl.csv"
  zcat fixtures/national/population.csv.gz > "$tmp/pop.csv"
  printf 'geopandas peer:  '
  measure python3 "$shared/peers/geopandas_coverage.py" --communes "$communes" \
    --cpts "$tmp/decl.csv" --population "$tmp/pop.csv" --out "$tmp/peer"
else
  echo "geopandas peer: skipped (pip install geopandas shapely pyogrio pyproj pandas pyarrow)"
fi
