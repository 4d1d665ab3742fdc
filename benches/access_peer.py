#!/usr/bin/env python3
"""PySAL `access` on all of France, for benches/access.sh: the peer maillage's
accessibility is measured against, on the same points and pairs.

    python3 benches/access_peer.py OUTDIR [RADIUS_M]

Writes OUTDIR/points.csv (geopandas to_crs(2154).centroid of every commune, the
overseas ones in their own UTM zone as maillage does, with an `epsg` column), OUTDIR/supply.csv (a
made-up supply as fixtures/make_supply.py makes it for PACA: not real data) and
OUTDIR/pysal.csv (the E2SFCA scores, Gaussian sigma 15 km), then prints the time
and peak memory of PySAL's 2SFCA and E2SFCA alone (the pairs are built with
scipy before the clock starts, as a PySAL user would pass them in).
"""
import csv
import gc
import os
import resource
import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
from access import Access, weights
from scipy.spatial import cKDTree

out = sys.argv[1]
radius = float(sys.argv[2]) if len(sys.argv) > 2 else 30000.0
os.makedirs(out, exist_ok=True)
HERE = os.path.dirname(os.path.abspath(__file__))
layer = os.path.join(HERE, "..", "..", "shared", "data", "communes-france-2018.geojson.gz")
pops = os.path.join(HERE, "..", "fixtures", "national", "population.csv.gz")

communes = gpd.read_file("/vsigzip/" + layer).sort_values("code")
dep = communes["code"].str[:3].where(communes["code"].str.startswith("97"), "metro")
epsg = {"metro": 2154, "971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
points = []
for d, group in communes.groupby(dep):
    c = group.to_crs(epsg[d]).geometry.centroid
    for code, p in zip(group["code"], c):
        points.append((code, d, p.x, p.y))
points.sort()
with open(os.path.join(out, "points.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["code", "x", "y", "epsg"])
    for code, d, x, y in points:
        w.writerow([code, repr(x), repr(y), epsg[d]])

pop = dict(pd.read_csv(pops, dtype={"code": str}).itertuples(index=False, name=None))
rng = np.random.default_rng(2026)
codes = [p[0] for p in points]
demand = np.array([pop.get(c, 0) for c in codes], dtype=float)
supply = np.array([rng.poisson(p / 1050 if p >= 700 else p / 2500) for p in demand], dtype=float)
with open(os.path.join(out, "supply.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["code", "supply"])
    for c, s in zip(codes, supply):
        w.writerow([c, int(s)])

# pairs within the radius, per CRS (overseas points are in other units)
origins, dests, costs = [], [], []
frames = np.array([p[1] for p in points])
xy = np.array([[p[2], p[3]] for p in points])
for d in sorted(set(frames)):
    idx = np.nonzero(frames == d)[0]
    tree = cKDTree(xy[idx])
    pairs = tree.query_pairs(radius * (1 + 1e-9), output_type="ndarray")
    a = np.concatenate([idx[pairs[:, 0]], idx[pairs[:, 1]], idx])
    b = np.concatenate([idx[pairs[:, 1]], idx[pairs[:, 0]], idx])
    dist = np.sqrt(((xy[a] - xy[b]) ** 2).sum(axis=1))
    keep = dist <= radius
    origins.append(a[keep]); dests.append(b[keep]); costs.append(dist[keep])
o = np.concatenate(origins); d = np.concatenate(dests); c = np.concatenate(costs)
code_arr = np.array(codes, dtype=object)
cost = pd.DataFrame({"origin": code_arr[o], "dest": code_arr[d], "cost": c})
print(f"pysal: {len(codes)} communes, {len(cost)} pairs within {radius:.0f} m", flush=True)
demand_df = pd.DataFrame({"pop": demand}, index=pd.Index(codes, name="geoid"))
supply_df = pd.DataFrame({"doc": supply}, index=pd.Index(codes, name="geoid"))
del origins, dests, costs, o, d, c
gc.collect()

model = Access(demand_df=demand_df, demand_value="pop", supply_df=supply_df,
               supply_value=["doc"], cost_df=cost, cost_origin="origin",
               cost_dest="dest", cost_name="cost")
t = time.perf_counter()
model.two_stage_fca(name="a", max_cost=radius)
print(f"pysal 2sfca: {time.perf_counter() - t:.2f} s", flush=True)
t = time.perf_counter()
r = model.enhanced_two_stage_fca(name="b", max_cost=radius, weight_fn=weights.gaussian(15000))
print(f"pysal e2sfca gaussian: {time.perf_counter() - t:.2f} s", flush=True)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"pysal peak memory: {peak:.0f} MiB (the whole process)")
r["b_doc"].to_csv(os.path.join(out, "pysal.csv"))
