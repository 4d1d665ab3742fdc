#!/usr/bin/env bash
# The planner's tools on all of France, side by side in one session: `check`
# alone, `check --candidate` (a candidate made of the communes of the largest new
# CPTS that `propose` suggests, so it fills a real zone blanche), and `propose`
# with each strategy, whose figures are printed side by side.
#
#   bash benches/propose.sh
#
# Needs ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --quiet
b=target/release/maillage
args=(--communes ../shared/data/communes-france-2018.geojson.gz
      --cpts fixtures/national/declarations.csv.gz
      --population fixtures/national/population.csv.gz)
t() { local label=$1; shift; /usr/bin/time -f "$label: %e s wall, %M KiB peak" "$@" > /dev/null 2> "$tmp/err" || true; tail -1 "$tmp/err"; }
for s in balanced longest-border min-population epci; do
  "$b" propose --quiet "${args[@]}" --strategy "$s" --out "$tmp/$s" > "$tmp/$s.txt"
done
python3 - "$tmp" <<'PY' > "$tmp/candidate.csv"
import csv, sys
rows = list(csv.DictReader(open(f"{sys.argv[1]}/balanced/new_cpts.csv")))
big = max(rows, key=lambda r: (int(r["population"]), r["cpts_id"]))
print("cpts_id,cpts_name,commune_code,status")
for c in big["codes"].split("|"):
    print(f"CANDIDATE,Candidate,{c},projet")
PY
for i in 1 2 3; do
  t "check             run $i" "$b" check --quiet "${args[@]}"
  t "check --candidate run $i" "$b" check --quiet "${args[@]}" --candidate "$tmp/candidate.csv"
  t "propose           run $i" "$b" propose --quiet "${args[@]}" --out "$tmp/p$i"
done
printf '%-15s %8s %9s %9s %12s %11s %10s\n' strategy whites overlaps classes dep_crossing epci_moves epci_split
for s in balanced longest-border min-population epci; do
  python3 - "$tmp/$s/summary.json" "$s" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(f'{sys.argv[2]:<15} {j["after"]["communes_white"]:>8} {j["after"]["communes_overlap"]:>9} '
      f'{j["size_class_changes"]:>9} {j["departement_crossings"]:>12} {j["epci_splitting_moves"]:>11} '
      f'{j["before"]["epci_split"]:>4} -> {j["after"]["epci_split"]}')
PY
done
