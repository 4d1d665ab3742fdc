#!/usr/bin/env bash
# Seeds each target's corpus (fuzz/corpus/<target>/, not committed) from fixtures/.
set -euo pipefail
cd "$(dirname "$0")"
f=../fixtures
mkdir -p corpus/communes corpus/declarations corpus/population corpus/pipeline corpus/stream \
  corpus/workbook_xlsx corpus/workbook_ods corpus/workbook_xls
cp $f/adminexpress/*.zip $f/adminexpress/*.gpkg $f/adminexpress/*.parquet $f/adminexpress/l93-05.geojson.gz corpus/communes/
# workbook targets: the real ARS-style workbooks (the xlsx and ods targets take
# the sheet's XML, zipped back by the target)
unzip -p $f/paca/declarations.xlsx xl/worksheets/sheet2.xml > corpus/workbook_xlsx/sheet2.xml
unzip -p $f/paca/declarations.xlsx xl/worksheets/sheet1.xml > corpus/workbook_xlsx/sheet1.xml
unzip -p $f/paca/declarations.ods content.xml > corpus/workbook_ods/content.xml
cp $f/paca/declarations.xls corpus/workbook_xls/
python3 - "$f" <<'PY'
import gzip, json, sys
f = sys.argv[1]
fc = json.load(gzip.open(f"{f}/paca/communes.geojson.gz", "rt"))
# a few real communes of the Alpes-de-Haute-Provence: small seeds
small = {"type": "FeatureCollection", "features": fc["features"][:6]}
text = json.dumps(small).encode()
open("corpus/communes/paca-6.geojson", "wb").write(text)
# the streamed reader: the same, compact and indented, with a crs member
open("corpus/stream/paca-6.geojson", "wb").write(text)
open("corpus/stream/paca-6-indented.geojson", "wb").write(json.dumps(small, indent=1).encode())
small["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
open("corpus/stream/paca-6-crs.geojson", "wb").write(json.dumps(small).encode())
codes = [x["properties"].get("code") for x in small["features"]]
decl = "cpts_id,cpts_name,commune_code,status\n" + "".join(
    f"A,Alpha,{c},projet\n" for c in codes[:3]) + "".join(f"B,Beta,{c},aci_signe\n" for c in codes[2:5])
open("corpus/pipeline/lists", "wb").write(text + b"\0\0\0" + decl.encode())
drawn = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"cpts_id": "D", "cpts_name": "Drawn"}, "geometry": small["features"][1]["geometry"]}]}
open("corpus/pipeline/drawn", "wb").write(text + b"\0\0\0" + json.dumps(drawn).encode())
for name, kind in [("declarations.csv", 0), ("declarations.xlsx", 1), ("declarations.ods", 2), ("drawn.geojson", 3)]:
    data = open(f"{f}/paca/{name}", "rb").read()
    open(f"corpus/declarations/{name}", "wb").write(bytes([kind]) + data)
pop = open(f"{f}/paca/population.csv", "rb").read()
open("corpus/population/population.csv", "wb").write(b"\0" + pop[:4000])
PY
echo "seeded: $(ls corpus/* | wc -l) files"
