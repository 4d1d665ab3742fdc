#!/usr/bin/env bash
# The whole test suite, as CI runs it. First installs, once, what the tests that
# drive real tools need (Debian's headless Chromium, playwright-core for Node, the
# Python GIS readers of tests/requirements.txt), then runs `cargo test --release`
# with those tests required rather than skipped.
#
#   bash tests/run.sh [cargo test arguments]
#   bash tests/run.sh --national [test filter]     # the national tier
#
# `cargo test --release` alone also works: the tests whose tools are missing say
# so and pass.
set -euo pipefail
cd "$(dirname "$0")/.."

# The national tier: the tests marked `#[ignore = "national tier: …"]`, which read
# the national commune layer of ../shared/data (or of MAILLAGE_NATIONAL_DATA). They
# need no tool beyond cargo.
if [ "${1:-}" = --national ]; then
  shift
  export MAILLAGE_NATIONAL_DATA="${MAILLAGE_NATIONAL_DATA:-$PWD/../shared/data}"
  exec cargo test --release --test tests -- --ignored "$@"
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium-headless-shell >/dev/null 2>&1 && ! command -v chromium >/dev/null 2>&1; then
  echo "tests/run.sh: installing Debian's chromium-headless-shell for the report test" >&2
  as_root apt-get install -y -q chromium-headless-shell >/dev/null 2>&1 \
    || { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q chromium-headless-shell >/dev/null; }
fi
if ! /usr/bin/python3 -c "import osgeo_utils.samples.validate_gpkg" >/dev/null 2>&1; then
  echo "tests/run.sh: installing Debian's python3-gdal for GDAL's GeoPackage validator" >&2
  as_root apt-get install -y -q python3-gdal >/dev/null 2>&1 \
    || { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q python3-gdal >/dev/null; }
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "tests/run.sh: installing playwright-core (no browser download) in tests/browser" >&2
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

if ! python3 -c "import dask_geopandas, distributed, duckdb, duckdb_extension_spatial, geopandas, pyarrow, pyogrio, pyspark, shapely" >/dev/null 2>&1; then
  echo "tests/run.sh: installing the GIS readers of tests/requirements.txt (pip)" >&2
  python3 -m pip install -q --disable-pip-version-check -r tests/requirements.txt
fi

export MAILLAGE_REQUIRE_BROWSER=1
export MAILLAGE_REQUIRE_PYTHON=1
exec cargo test --release "$@"
