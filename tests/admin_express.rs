//! Commune layers as IGN Admin Express ships them (issue 4), made by GDAL/PROJ
//! (`fixtures/make_adminexpress.py`) from the real WGS84 polygons: read back through
//! maillage's own pure-Rust reprojection, every vertex must land within 1 m of the
//! source.

use super::*;
use maillage::load::{load_communes, CommuneLayer, FieldNames};

/// The WGS84 polygons the Admin Express fixtures were made from (Hautes-Alpes
/// and the five DROM, cut unchanged from the national file).
fn source() -> &'static CommuneLayer {
    static L: std::sync::OnceLock<CommuneLayer> = std::sync::OnceLock::new();
    L.get_or_init(|| load("adminexpress/wgs84-source.geojson.gz"))
}

fn load(rel: &str) -> CommuneLayer {
    load_communes(
        &Source::from_path(fixture(rel)).unwrap(),
        &FieldNames::default(),
    )
    .unwrap()
}

/// Admin Express ships arrondissements municipaux as a layer beside COMMUNE: when
/// declarations name Marseille's arrondissements, their polygons (synthetic
/// strips of the city, made by GDAL) take the city's place; otherwise the city
/// stays whole. Read from the zip, the unzipped folder and the AE 4.0
/// GeoPackage (table `arrondissement_municipal`) alike.
#[test]
fn arrondissement_layer_beside_commune_is_used_when_declarations_need_it() {
    let mut by_arr = String::from("cpts_id,cpts_name,commune_code,status\n");
    for a in 13201..=13216 {
        let id = if a <= 13208 { "M-NORD" } else { "M-SUD" };
        by_arr.push_str(&format!("{id},Marseille {id},{a},aci_signe\n"));
    }
    let whole = "cpts_id,cpts_name,commune_code,status\nM,Marseille,13055,projet\n";
    let dir = Dir::new();
    let zip = std::fs::read(fixture("adminexpress/ae3-13-l93.zip")).unwrap();
    zip::ZipArchive::new(std::io::Cursor::new(zip))
        .unwrap()
        .extract(dir.path())
        .unwrap();
    let city_km2 = {
        let l = load("adminexpress/ae3-13-l93.zip");
        assert_eq!(l.spare_arrondissements.len(), 16);
        let city = l.communes.iter().find(|c| c.code == "13055").unwrap();
        maillage::geometry::multi_polygon_km2(&city.geometry)
    };
    for layer in [
        Source::from_path(fixture("adminexpress/ae3-13-l93.zip")).unwrap(),
        Source::from_path(dir.path().join("COMMUNE.shp")).unwrap(),
        Source::from_path(fixture("adminexpress/ae4-13-l93.gpkg")).unwrap(),
    ] {
        let run = |csv: &str| {
            Analysis::run(&Inputs {
                communes: layer.clone(),
                cpts: vec![Source::from_bytes("d.csv", csv.as_bytes().to_vec()).unwrap()],
                population: None,
                fields: FieldNames::default(),
                min_area_km2: maillage::DEFAULT_MIN_AREA_KM2,
                area: None,
                tables: Default::default(),
                progress: None,
                check_rings: false,
            })
            .unwrap()
        };
        let a = run(&by_arr);
        assert!(a.communes.index_of("13055").is_none());
        let mut km2 = 0.0;
        for code in 13201..=13216 {
            let i = a.communes.index_of(&code.to_string()).unwrap() as usize;
            assert!(a.communes.area_km2[i] > 1.0, "{code} has its polygon");
            assert_eq!(a.verdict(&code.to_string()), Some(Verdict::Covered));
            km2 += a.communes.area_km2[i];
        }
        assert!(
            (km2 - city_km2).abs() < 1e-6 * city_km2,
            "{km2} vs {city_km2}"
        );
        let flag = diagnostic(&a, DiagnosticKind::Arrondissements);
        assert!(
            flag.message
                .contains("avec leurs polygones de la couche ARRONDISSEMENT_MUNICIPAL"),
            "{}",
            flag.message
        );
        // adjacent strips: each CPTS is one part
        assert_eq!(a.summary.cpts_non_contiguous, 0);
        // declarations of the whole city leave the layer as it is
        let b = run(whole);
        assert!(b.communes.index_of("13055").is_some());
        assert!(b.communes.index_of("13201").is_none());
        assert_eq!(b.communes.len(), a.communes.len() - 15);
    }
}

/// Largest distance in metres between corresponding vertices of two layers
/// (rings matched in order; a ring may start elsewhere or turn the other way).
fn max_shift_m(a: &CommuneLayer, reference: &CommuneLayer) -> f64 {
    let mut worst = 0.0f64;
    for c in &a.communes {
        let r = reference
            .communes
            .iter()
            .find(|r| r.code == c.code)
            .unwrap_or_else(|| panic!("{} not in the reference", c.code));
        assert_eq!(c.geometry.0.len(), r.geometry.0.len(), "{}", c.code);
        for (p, q) in c.geometry.0.iter().zip(&r.geometry.0) {
            let rings_p = std::iter::once(p.exterior()).chain(p.interiors());
            let rings_q: Vec<_> = std::iter::once(q.exterior()).chain(q.interiors()).collect();
            for (k, ring) in rings_p.enumerate() {
                let (a, b) = (
                    &ring.0[..ring.0.len() - 1],
                    &rings_q[k].0[..rings_q[k].0.len() - 1],
                );
                assert_eq!(a.len(), b.len(), "{} ring {k}", c.code);
                let m = |u: geo::Coord, v: geo::Coord| {
                    let dx = (u.x - v.x) * 111_320.0 * u.y.to_radians().cos();
                    let dy = (u.y - v.y) * 110_574.0;
                    (dx * dx + dy * dy).sqrt()
                };
                let start = (0..b.len())
                    .min_by(|&i, &j| m(a[0], b[i]).total_cmp(&m(a[0], b[j])))
                    .unwrap();
                let n = b.len();
                let fwd = (0..n)
                    .map(|i| m(a[i], b[(start + i) % n]))
                    .fold(0.0, f64::max);
                let back = (0..n)
                    .map(|i| m(a[i], b[(start + n - i) % n]))
                    .fold(0.0, f64::max);
                worst = worst.max(fwd.min(back));
            }
        }
    }
    worst
}

#[test]
fn lambert_93_shapefile_geopackage_and_geojson_match_the_wgs84_source() {
    let reference = source();
    for rel in [
        "adminexpress/ae3-05-l93.zip",
        "adminexpress/ae4-05-l93.gpkg",
        "adminexpress/l93-05.geojson.gz",
    ] {
        let layer = load(rel);
        assert_eq!(layer.communes.len(), 163, "{rel}: Hautes-Alpes, 2018");
        let shift = max_shift_m(&layer, reference);
        eprintln!("{rel}: largest vertex shift {shift:.1e} m");
        // GeoJSON written by GDAL at 1 mm (COORDINATE_PRECISION 3)
        assert!(shift < 0.01, "{rel}: a vertex moved {shift} m");
        let said = format!("{:?}", layer.diagnostics);
        assert!(
            said.contains("Lambert-93") || said.contains("Lambert_93"),
            "{said}"
        );
    }
    // Admin Express 3.x and 4.0 field names, without options
    let ae3 = load("adminexpress/ae3-05-l93.zip");
    let ae4 = load("adminexpress/ae4-05-l93.gpkg");
    assert_eq!(
        (ae3.code_field.as_str(), ae4.code_field.as_str()),
        ("INSEE_COM", "code_insee")
    );
    assert_eq!(ae4.name_field.as_deref(), Some("nom_officiel"));
    assert_eq!(ae4.population_field.as_deref(), Some("population"));
    let gap = ae3.communes.iter().find(|c| c.code == "05061").unwrap();
    assert_eq!(gap.name, "Gap");
    assert_eq!(
        gap.population,
        maillage::reference::cog()
            .current("05061")
            .unwrap()
            .population
    );
    assert_eq!(
        ae3.communes
            .iter()
            .map(|c| c.population)
            .collect::<Vec<_>>(),
        ae4.communes
            .iter()
            .map(|c| c.population)
            .collect::<Vec<_>>()
    );
}

#[test]
fn overseas_crs_of_admin_express_match_the_wgs84_source() {
    let reference = source();
    for (rel, n) in [
        ("adminexpress/ae3-971-5490.zip", 32),
        ("adminexpress/ae3-972-5490.zip", 34),
        ("adminexpress/ae3-973-2972.zip", 22),
        ("adminexpress/ae3-974-2975.zip", 24),
        ("adminexpress/ae3-976-4471.zip", 17),
    ] {
        let layer = load(rel);
        assert_eq!(layer.communes.len(), n, "{rel}");
        let shift = max_shift_m(&layer, reference);
        eprintln!("{rel}: largest vertex shift {shift:.1e} m");
        assert!(shift < 1.0, "{rel}: a vertex moved {shift} m");
    }
}

/// Metres without a CRS are refused with a hint, never read as degrees; --crs
/// (here FieldNames::crs) reads them.
#[test]
fn metres_without_a_crs_are_detected_and_crs_reads_them() {
    let text = String::from_utf8(
        Source::from_path(fixture("adminexpress/l93-05.geojson.gz"))
            .unwrap()
            .bytes,
    )
    .unwrap();
    let start = text.find("\"crs\"").unwrap();
    let end = start + text[start..].find("} },").unwrap() + 4;
    let bare = format!("{}{}", &text[..start], &text[end..]);
    assert!(!bare.contains("EPSG"));
    let src = Source::from_bytes("bare.geojson", bare.into_bytes()).unwrap();
    let e = load_communes(&src, &FieldNames::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bare.geojson")
            && e.contains("--crs EPSG:2154")
            && e.contains("feature 0 (05001)"),
        "{e}"
    );
    let fields = FieldNames {
        crs: Some("EPSG:2154".into()),
        ..FieldNames::default()
    };
    let layer = load_communes(&src, &fields).unwrap();
    assert!(max_shift_m(&layer, source()) < 0.01);
}

/// The whole pipeline on a Lambert-93 Shapefile gives the same verdicts as on the
/// WGS84 GeoJSON of the same communes.
#[test]
fn analysis_on_the_shapefile_equals_the_analysis_on_geojson() {
    let mut shp = paca_inputs();
    shp.communes = Source::from_path(fixture("adminexpress/ae3-05-l93.zip")).unwrap();
    shp.population = None;
    let a = Analysis::run(&shp).unwrap();
    let b = Analysis::run(&paca_inputs()).unwrap();
    for c in &a.communes.layer.communes {
        assert_eq!(a.verdict(&c.code), b.verdict(&c.code), "{}", c.code);
        let (i, j) = (
            a.communes.index_of(&c.code).unwrap() as usize,
            b.communes.index_of(&c.code).unwrap() as usize,
        );
        let (x, y) = (a.communes.area_km2[i], b.communes.area_km2[j]);
        assert!((x - y).abs() <= 1e-6 * y, "{}: {x} vs {y} km²", c.code);
    }
}
