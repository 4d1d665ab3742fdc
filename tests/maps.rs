//! Issue 9: the coverage map (SVG and PNG) and the interactive report.

use super::*;

/// `name="value"` attributes of every element of `tag` whose text contains
/// `marker`, in document order.
fn elements<'a>(svg: &'a str, tag: &str, marker: &str) -> Vec<BTreeMap<&'a str, &'a str>> {
    let open = format!("<{tag} ");
    svg.match_indices(&open)
        .filter_map(|(at, _)| {
            let end = svg[at..].find('>')? + at;
            let text = &svg[at + open.len()..end];
            text.contains(marker).then(|| attributes(text))
        })
        .collect()
}

fn attributes(text: &str) -> BTreeMap<&str, &str> {
    let mut out = BTreeMap::new();
    let mut rest = text;
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].trim().trim_end_matches('/');
        let tail = &rest[eq + 2..];
        let Some(close) = tail.find('"') else { break };
        out.insert(name.rsplit(' ').next().unwrap_or(name), &tail[..close]);
        rest = &tail[close + 1..];
    }
    out
}

fn demo_map(dir: &Dir, extra: &[&str]) -> String {
    let mut args = vec![
        "analyze",
        "--map",
        "--quiet",
        "--out",
        "out",
        "--date",
        "2026-01-01",
    ];
    args.extend(extra);
    let o = maillage(dir.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    dir.read("out/map.svg")
}

#[test]
fn every_territory_is_drawn_with_its_id_and_neighbours_never_share_a_colour() {
    let dir = Dir::new();
    let svg = demo_map(&dir, &[]);
    let a = Analysis::run(&paca_inputs()).unwrap();
    let paths = elements(&svg, "path", r#"class="territory""#);
    let fill: BTreeMap<&str, &str> = paths.iter().map(|p| (p["data-cpts"], p["fill"])).collect();
    let ids: Vec<&str> = a.declarations.cpts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        fill.keys().copied().collect::<Vec<_>>(),
        ids,
        "one path per CPTS, by id"
    );
    for p in &paths {
        assert!(p["id"].starts_with("cpts-") && !p["d"].is_empty(), "{p:?}");
    }
    // territories that share a border or a commune, from the commune adjacency
    // (checked against shapely in paca_adjacency_…)
    let claims = &a.coverage.claimants;
    let mut pairs = 0;
    for i in 0..a.communes.len() {
        let mut near: Vec<u32> = claims[i].clone();
        for &j in a.adjacency.neighbours(i as u32) {
            near.extend(&claims[j as usize]);
        }
        for &x in &claims[i] {
            for &y in &near {
                if x != y {
                    let (cx, cy) = (
                        &a.declarations.cpts[x as usize].id,
                        &a.declarations.cpts[y as usize].id,
                    );
                    assert_ne!(fill[cx.as_str()], fill[cy.as_str()], "{cx} and {cy} touch");
                    pairs += 1;
                }
            }
        }
    }
    assert!(pairs > 100, "the demo's territories do touch ({pairs})");
    let colours: std::collections::BTreeSet<&str> = fill.values().copied().collect();
    assert!((3..=6).contains(&colours.len()), "{colours:?}");
}

#[test]
fn the_legend_counts_are_the_summary() {
    let dir = Dir::new();
    let svg = demo_map(&dir, &[]);
    let summary: serde_json::Value = serde_json::from_str(&dir.read("out/summary.json")).unwrap();
    let rows = elements(&svg, "g", r#"class="legend-row""#);
    let row = |kind: &str| {
        rows.iter()
            .find(|r| r.get("data-kind") == Some(&kind))
            .unwrap_or_else(|| panic!("no {kind} row in {rows:?}"))
    };
    for (kind, communes, population) in [
        ("covered", "communes_covered", "population_covered"),
        ("white", "communes_white", "population_white"),
        ("overlap", "communes_overlap", "population_overlap"),
    ] {
        assert_eq!(
            row(kind)["data-communes"],
            summary[communes].to_string(),
            "{kind}"
        );
        assert_eq!(
            row(kind)["data-population"],
            summary[population].to_string(),
            "{kind}"
        );
    }
    assert_eq!(
        row("white")["data-zones"],
        summary["white_zone_clusters"].to_string()
    );
    // and the words a planner reads
    assert!(
        svg.contains("47 communes, 713\u{202F}154 hab."),
        "white zone figures in French"
    );
    assert!(
        svg.contains(">Provence-Alpes-Côte d&#39;Azur<"),
        "the région's name as title"
    );
    assert!(
        svg.contains("1er janvier 2026"),
        "the date on the source line, in words"
    );
    // the white zones and overlaps drawn are the summary's
    assert_eq!(
        elements(&svg, "path", r#"class="white-zone""#).len() as u64,
        summary["white_zone_clusters"].as_u64().unwrap()
    );
}

#[test]
fn by_status_the_legend_splits_the_covered_communes_by_status() {
    let dir = Dir::new();
    let svg = demo_map(&dir, &["--color-by", "status"]);
    let summary: serde_json::Value = serde_json::from_str(&dir.read("out/summary.json")).unwrap();
    let rows = elements(&svg, "g", r#"class="legend-row""#);
    let statuses: Vec<_> = rows
        .iter()
        .filter(|r| r["data-kind"].starts_with("status-"))
        .collect();
    assert_eq!(statuses.len(), 3, "ACI signé, validé, projet: {rows:?}");
    let sum = |key: &str| -> u64 {
        statuses
            .iter()
            .map(|r| r[key].parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!(
        sum("data-communes"),
        summary["communes_covered"].as_u64().unwrap()
    );
    assert_eq!(
        sum("data-population"),
        summary["population_covered"].as_u64().unwrap()
    );
    assert_eq!(sum("data-cpts"), summary["cpts_count"].as_u64().unwrap());
    for (status, key) in [
        ("aci_signe", "aci_signe"),
        ("valide", "valide"),
        ("projet", "projet"),
    ] {
        let r = statuses
            .iter()
            .find(|r| r["data-kind"] == format!("status-{status}"))
            .unwrap();
        assert_eq!(r["data-cpts"], summary["cpts_by_status"][key].to_string());
    }
    // every territory wears its status's colour
    let a = Analysis::run(&paca_inputs()).unwrap();
    for p in elements(&svg, "path", r#"class="territory""#) {
        let c = a
            .declarations
            .cpts
            .iter()
            .find(|c| c.id == p["data-cpts"])
            .unwrap();
        assert_eq!(
            p["fill"],
            maillage::render::status_colour(c.status),
            "{}",
            c.id
        );
    }
}

#[test]
fn a_choropleth_classes_every_departement_and_says_how_many_per_class() {
    let dir = Dir::new();
    let classes = |svg: &str| -> Vec<usize> {
        elements(svg, "g", r#"class="legend-row""#)
            .iter()
            .filter(|r| r["data-kind"].starts_with("class-"))
            .map(|r| r["data-count"].parse::<usize>().unwrap())
            .collect()
    };
    let svg = demo_map(
        &dir,
        &[
            "--choropleth",
            "coverage_rate_population",
            "--breaks",
            "equal",
            "--classes",
            "3",
        ],
    );
    let counts = classes(&svg);
    assert_eq!(counts.len(), 3);
    assert_eq!(counts.iter().sum::<usize>(), 6, "PACA's six départements");
    assert!(svg.contains("Part de la population couverte par une CPTS, par département"));
    assert!(svg.contains("3 classes, intervalles égaux ; coverage_rate_population"));
    // four of the six départements are covered whole: repeated quantiles merge
    let svg = demo_map(
        &dir,
        &[
            "--choropleth",
            "coverage_rate_population",
            "--breaks",
            "quantiles",
            "--classes",
            "3",
        ],
    );
    let counts = classes(&svg);
    assert_eq!(counts, vec![2, 4], "{svg}");
    assert!(
        elements(&svg, "path", r#"class="territory""#).is_empty(),
        "a choropleth instead"
    );
    // communes, Jenks: every commune with a population in a class
    let svg = demo_map(
        &dir,
        &["--choropleth", "communes.population", "--classes", "5"],
    );
    let rows = elements(&svg, "g", r#"class="legend-row""#);
    let counted: usize = rows
        .iter()
        .filter(|r| r["data-kind"].starts_with("class-"))
        .map(|r| r["data-count"].parse::<usize>().unwrap())
        .sum();
    assert_eq!(counted, 947);
    let bounds: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.get("data-upper").map(|u| u.parse().unwrap()))
        .collect();
    assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{bounds:?}");
    assert_eq!(
        *bounds.last().unwrap(),
        886_040.0,
        "Marseille tops the last class"
    );
}

#[test]
fn a_column_that_cannot_be_mapped_is_a_clear_error_and_nothing_is_written() {
    let dir = Dir::new();
    for (column, says) in [
        ("name", "not numeric"),
        ("no_such_column", "no column \"no_such_column\""),
    ] {
        let o = maillage(
            dir.path(),
            &["analyze", "--map", "--choropleth", column, "--out", "out"],
        );
        assert_eq!(o.status.code(), Some(2), "{column}");
        let e = stderr(&o);
        assert!(
            e.contains(says) && e.contains("communes.csv"),
            "{column}: {e}"
        );
        assert!(
            !dir.path().join("out").join("summary.json").exists(),
            "all or nothing"
        );
    }
    // a column with no value at all: a layer without population
    let layer = collection(&[
        square("01001", 5.0, 45.0, 0.01),
        square("01002", 5.01, 45.0, 0.01),
    ])
    .replace(r#","population":1000"#, "");
    dir.write("c.geojson", &layer);
    dir.write("d.csv", "cpts_id,cpts_name,commune_code\nA,A,01001\n");
    dir.write("p.csv", "code,population\n01001,0\n01002,0\n");
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--communes",
            "c.geojson",
            "--cpts",
            "d.csv",
            "--population",
            "p.csv",
            "--map",
            "--choropleth",
            "departements.coverage_rate_population",
            "--out",
            "out2",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("has no value to map"), "{}", stderr(&o));
    assert!(
        !dir.path().join("out2").exists()
            || std::fs::read_dir(dir.path().join("out2"))
                .unwrap()
                .next()
                .is_none()
    );
    // options checked before any work
    let o = maillage(dir.path(), &["map", "--breaks", "kmeans"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("[possible values: quantiles, equal, jenks]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_map_command_writes_the_maps_alone_and_the_png_is_the_svg_drawn() {
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &["map", "--out", "maps", "--date", "2026-01-01", "--quiet"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("maps"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["map.png", "map.svg"]);
    let svg = dir.read("maps/map.svg");
    let w: u32 = attributes(&svg[..svg.find('>').unwrap()])["width"]
        .parse()
        .unwrap();
    let h: f64 = attributes(&svg[..svg.find('>').unwrap()])["height"]
        .parse()
        .unwrap();
    let png = decode_png(&std::fs::read(dir.path().join("maps/map.png")).unwrap());
    assert_eq!((png.0, png.1), (w, h as u32), "same size");
    assert!(w >= 1600, "at least 1600 px wide");
    // the zones blanches' red is on the picture, as drawn in the SVG
    let red = png.2.chunks(3).filter(|p| p == &[0xe3, 0x1a, 0x1c]).count();
    assert!(red > 5000, "{red} red pixels");
}

/// width, height and RGB pixels of a PNG
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
    d.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut r = d.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, rgb)
}

/// The PACA map at 640 px against the committed picture: a drawing regression
/// fails, anti-aliasing noise does not. `MAILLAGE_BLESS=1` rewrites it after a
/// change meant to show.
#[test]
fn the_regional_map_matches_its_golden_picture() {
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &[
            "map",
            "--out",
            "maps",
            "--date",
            "2026-01-01",
            "--map-width",
            "640",
            "--quiet",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got = std::fs::read(dir.path().join("maps/map.png")).unwrap();
    let golden = fixture("golden/paca-map-640.png");
    if std::env::var_os("MAILLAGE_BLESS").is_some() {
        std::fs::write(&golden, &got).unwrap();
    }
    let (w, h, a) = decode_png(&got);
    let (gw, gh, b) = decode_png(&std::fs::read(&golden).unwrap());
    assert_eq!((w, h), (gw, gh), "size of the picture");
    let mut off = 0usize;
    let mut total = 0u64;
    for (p, q) in a.chunks(3).zip(b.chunks(3)) {
        let d = p
            .iter()
            .zip(q)
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap_or(0);
        total += u64::from(d);
        if d > 48 {
            off += 1;
        }
    }
    let pixels = (w * h) as usize;
    assert!(
        off * 1000 < pixels * 5,
        "{off} of {pixels} pixels differ (> 0.5 %)"
    );
    assert!(
        (total as f64) / (pixels as f64) < 1.5,
        "mean difference {}",
        total as f64 / pixels as f64
    );
}

#[test]
fn drawn_territories_are_drawn_with_their_gap_and_overlap_pieces() {
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--map",
            "--quiet",
            "--out",
            "out",
            "--date",
            "2026-01-01",
            "--communes",
            fixture("paca/communes.geojson.gz").to_str().unwrap(),
            "--cpts",
            fixture("paca/drawn.geojson").to_str().unwrap(),
            "--cpts",
            fixture("paca/drawn-lists.csv").to_str().unwrap(),
            "--population",
            fixture("paca/population.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let svg = dir.read("out/map.svg");
    let summary: serde_json::Value = serde_json::from_str(&dir.read("out/summary.json")).unwrap();
    let territories = elements(&svg, "path", r#"class="territory""#);
    assert_eq!(
        territories.len() as u64,
        summary["cpts_count"].as_u64().unwrap()
    );
    // every drawn territory has its own outline on the map
    let drawn: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("paca/drawn.geojson")).unwrap())
            .unwrap();
    let ids: std::collections::BTreeSet<&str> = drawn["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["cpts_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len() as u64, summary["cpts_drawn"].as_u64().unwrap());
    for id in ids {
        assert!(territories.iter().any(|p| p["data-cpts"] == id), "{id}");
    }
    let overlaps: serde_json::Value =
        serde_json::from_str(&dir.read("out/overlaps.geojson")).unwrap();
    let pieces = elements(&svg, "path", r#"class="overlap""#);
    assert_eq!(pieces.len(), overlaps["features"].as_array().unwrap().len());
    for (p, f) in pieces.iter().zip(overlaps["features"].as_array().unwrap()) {
        assert_eq!(
            p["data-cpts"],
            f["properties"]["cpts_ids"].as_str().unwrap()
        );
    }
    assert_eq!(
        elements(&svg, "path", r#"class="white-zone""#).len() as u64,
        summary["white_zone_clusters"].as_u64().unwrap()
    );
}

#[test]
fn the_report_holds_the_verdict_figures_and_diagnostics() {
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--report",
            "--quiet",
            "--out",
            "out",
            "--date",
            "2026-01-01",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = dir.read("out/report.html");
    assert!(html.contains(r#"class="verdict broken""#));
    assert!(
        html.contains(r#"<td data-figure="communes_white">47</td>"#),
        "figures"
    );
    assert!(
        html.contains("[non_contiguous]") || html.contains(">non_contiguous<"),
        "diagnostics listed"
    );
    assert!(html.contains("CPTS Bollène"));
    // no address of any host: it works offline and sends nothing anywhere
    // (names that are URLs but never fetched: the SVG namespace, and the OGC
    // names of the CRS OpenLayers knows; the browser test refuses any request)
    let names = html.matches("http://www.w3.org/2000/svg").count()
        + html.matches("http://www.opengis.net/").count();
    for scheme in ["http://", "https://", "//cdn", "src=\"http"] {
        let outside = html.matches(scheme).count();
        assert!(outside <= names, "{scheme} in the report");
    }
    assert_eq!(html.matches("https://").count(), 0);
}

/// The report and the map speak French as it is written (issue 24): plural
/// agreement, dates in words; no « commune(s) ».
#[test]
fn report_and_map_agree_in_number_and_write_dates_in_words() {
    let dir = Dir::new();
    let o = maillage(
        dir.path(),
        &[
            "analyze",
            "--map",
            "--report",
            "--date",
            "2026-12-01",
            "--out",
            "o",
            "--quiet",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = dir.read("o/report.html");
    assert!(html.contains("1er décembre 2026"), "no date in words");
    assert!(html.contains("47 communes en zone blanche") && html.contains(", 3 zones)"));
    assert!(html.contains("8 communes en chevauchement"));
    let verdict = &html[html.find(r#"<section id="verdict""#).unwrap()..];
    let verdict = &verdict[..verdict.find("</section>").unwrap()];
    assert!(!verdict.contains("(s)"), "{verdict}");
    let svg = dir.read("o/map.svg");
    assert!(svg.contains("Zones blanches : 3 zones") && svg.contains("1er décembre 2026"));
    // one zone is singular
    let dir2 = Dir::new();
    dir2.write(
        "c.geojson",
        collection(&[
            square("01001", 5.0, 45.0, 0.25),
            square("01002", 5.25, 45.0, 0.25),
        ]),
    );
    dir2.write("d.csv", "cpts_id,cpts_name,commune_code\nA,Alpha,01001\n");
    let o = maillage(
        dir2.path(),
        &[
            "analyze",
            "--communes",
            "c.geojson",
            "--cpts",
            "d.csv",
            "--report",
            "--out",
            "o",
            "--quiet",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = dir2.read("o/report.html");
    assert!(
        html.contains("1 commune en zone blanche") && html.contains(", 1 zone)"),
        "singular"
    );
}
