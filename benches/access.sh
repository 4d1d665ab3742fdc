#!/usr/bin/env bash
# maillage's accessibility against PySAL `access` on all of France, side by side in
# one session, on the same points (PySAL's centroids) and the same pairs (30 km):
# time, peak memory, and the largest relative difference of the E2SFCA scores.
#
#   bash benches/access.sh [radius_m]        # default 30000
#
# Needs ../shared/data and `pip install access geopandas scipy`.
set -euo pipefail
cd "$(dirname "$0")/.."
radius=${1:-30000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --quiet
/usr/bin/time -f "pysal script (loading, centroids and pairs included): %e s wall, %M KiB peak" \
  python3 benches/access_peer.py "$tmp" "$radius"
for i in 1 2 3; do
  printf 'maillage run %s: ' "$i"
  /usr/bin/time -f "%e s wall, %M KiB peak" target/release/maillage access --quiet --timings \
    --communes ../shared/data/communes-france-2018.geojson.gz \
    --population fixtures/national/population.csv.gz --supply "$tmp/supply.csv" \
    --points "$tmp/points.csv" --method e2sfca --weight gaussian:15000 --max-cost "$radius" \
    --out "$tmp/maillage" 2> "$tmp/err" || { cat "$tmp/err"; exit 1; }
  tail -1 "$tmp/err"
  grep -E "^ *(load|supply|locations|pairs|catchments):" "$tmp/err" | tr -s ' ' | tr '\n' ';'
  echo
done
python3 - "$tmp" <<'PY'
import csv, sys
d = sys.argv[1]
ref = {r["geoid"]: float(r["b_doc"]) for r in csv.DictReader(open(f"{d}/pysal.csv"))}
got = {r["code"]: float(r["score"]) for r in csv.DictReader(open(f"{d}/maillage/access.csv")) if r["score"]}
worst = max(abs(got[c] - v) / abs(v) for c, v in ref.items() if v)
print(f"largest relative difference, {len(ref)} communes: {worst:.2e}")
PY
