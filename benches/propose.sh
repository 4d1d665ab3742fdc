#!/usr/bin/env bash
# The planner's tools on all of France, side by side in one session: `check`
# alone, `check --candidate` (a candidate made of the communes of the largest new
# CPTS that `propose` suggests, so it fills a real zone blanche), and `propose`
# with each strategy, with and without --whole-clusters, whose figures are printed
# side by side. The strategies run on the national declarations plus two CPTS of
# one commune each that another CPTS also claims (Bordeaux, Aix-en-Provence), as
# real declarations have: none may vanish.
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
printf 'cpts_id,cpts_name,commune_code,status\nSOLO-33063,Coeur de Bordeaux,33063,aci_signe\nSOLO-13001,Aix,13001,valide\n' > "$tmp/solo.csv"
for s in balanced longest-border min-population epci; do
  for w in "" --whole-clusters; do
    "$b" propose --quiet "${args[@]}" --cpts "$tmp/solo.csv" --strategy "$s" $w --out "$tmp/$s$w" > "$tmp/$s$w.txt"
  done
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
printf '%-32s %6s %8s %7s %8s %8s %8s %8s %6s %8s %8s %9s\n' strategy whites overlaps classes dep_cross reg_cross epci_mov epci_split kept emptied new_cpts 'new>cap|2reg'
for s in balanced longest-border min-population epci; do
  for w in "" --whole-clusters; do
  python3 - "$tmp/$s$w" "$s$w" <<'PY'
import csv, json, sys
d = sys.argv[1]
j = json.load(open(f"{d}/summary.json"))
effect = list(csv.DictReader(open(f"{d}/cpts_effect.csv")))
kept = sum(1 for r in effect if not r["cpts_id"].startswith("NOUVELLE-") and r["emptied"] == "false")
new = list(csv.DictReader(open(f"{d}/new_cpts.csv")))
over = sum(1 for r in new if int(r["population"]) > 175000 and int(r["communes"]) > 1)
regions = 0
reg_of = {}
for line in open("src/data/departements.csv"):
    parts = line.strip().split(",")
    if len(parts) >= 3:
        reg_of[parts[0]] = parts[-1]
for r in new:
    deps = {c[:3] if c.startswith("97") else c[:2] for c in r["codes"].split("|")}
    if len({reg_of.get(x) for x in deps}) > 1:
        regions += 1
print(f'{sys.argv[2]:<32} {j["after"]["communes_white"]:>6} {j["after"]["communes_overlap"]:>8} '
      f'{j["size_class_changes"]:>7} {j["departement_crossings"]:>8} {j["region_crossings"]:>8} '
      f'{j["epci_splitting_moves"]:>8} {j["before"]["epci_split"]:>3}->{j["after"]["epci_split"]:<3} '
      f'{kept:>6} {len(j["cpts_emptied"]):>8} {j["new_cpts"]:>8} {over:>4}|{regions}')
PY
  done
done
