#!/usr/bin/env bash
# The cost of the GIS outputs on all of France, side by side in one session:
# `--format csv` against `--format gpkg` and `--format geoparquet`, three rounds,
# then the independent readers (fixtures/check_gis.py) on the national files.
#
#   bash benches/gis.sh
#
# Needs ../shared/data and `pip install -r tests/requirements.txt`.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --quiet
args=(--communes ../shared/data/communes-france-2018.geojson.gz
      --cpts fixtures/national/declarations.csv.gz
      --population fixtures/national/population.csv.gz --quiet)
for i in 1 2 3; do
  for f in csv gpkg geoparquet; do
    printf 'round %s %-10s ' "$i" "$f"
    /usr/bin/time -f "%e s wall, %M KiB peak" target/release/maillage analyze "${args[@]}" \
      --format "$f" --out "$tmp/$f" 2>&1 | tail -1
  done
done
ls -l "$tmp/gpkg/maillage.gpkg" "$tmp"/geoparquet/*.parquet | awk '{print $5, $NF}'
target/release/maillage analyze "${args[@]}" --format all --out "$tmp/runs/run_date=2026-12"
python3 fixtures/check_gis.py "$tmp/runs" ../shared/data/communes-france-2018.geojson.gz
