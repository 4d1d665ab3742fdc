//! The analysis as GIS layers: one attribute table and one geometry per feature,
//! shared by the formats that hold both (GeoPackage, GeoParquet), and the
//! geometry encodings they use (WKB, bounding boxes).

use geo::{BoundingRect, MultiPolygon};
use polars::prelude::{Column, DataFrame, NamedFrom, Series};

use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::stats::Stats;

/// One layer: `table` has one row per geometry, in the same order. It is the one
/// description of a layer's attributes, from which the GeoJSON file, the
/// GeoPackage layer and the GeoParquet file are all encoded.
#[derive(Clone)]
pub struct Layer<'a> {
    /// Its name (a table or file name: lowercase, no spaces).
    pub name: &'static str,
    /// What it holds, in a sentence (the GeoPackage's `gpkg_contents.description`).
    pub description: String,
    /// Its attributes.
    pub table: DataFrame,
    /// Its geometries, longitude/latitude (EPSG:4326), exteriors counter-clockwise.
    pub geometries: Vec<&'a MultiPolygon<f64>>,
}

fn col<T, V>(name: &str, values: V) -> Column
where
    Series: NamedFrom<V, T>,
    T: ?Sized,
{
    Column::from(Series::new(name.into(), values))
}

fn frame(name: &str, columns: Vec<Column>) -> Result<DataFrame> {
    let height = columns.first().map_or(0, |c| c.len());
    DataFrame::new(height, columns).map_err(|source| Error::Table {
        context: format!("{name} layer"),
        source,
    })
}

const OVERLAPS: &str = "Chevauchements: ground claimed by two or more CPTS";

/// The feature layers of an analysis: `communes` (every column of `communes.csv`),
/// `territories` (every column of `cpts.csv` and `fill`, the map's colour),
/// `white_zones`, `overlaps` (one per overlapped commune, or per overlap piece of
/// drawn territories) and, with drawn territories, `slivers`. Their attributes are
/// those of the GeoJSON layers of the same name.
///
/// # Errors
/// [`Error::Table`] if a table cannot be built.
pub fn feature_layers<'a>(analysis: &'a Analysis, stats: &Stats) -> Result<Vec<Layer<'a>>> {
    let outlines = analysis.outlines();
    let (communes, decl, cov) = (
        &analysis.communes,
        &analysis.declarations,
        &analysis.coverage,
    );
    let ids_of = |owners: &[u32]| join_ids(decl, owners);
    let codes_of = |members: &[u32]| join_codes(communes, members);
    let mut layers = Vec::new();
    // rows of communes.csv are the layer's communes in order, cpts.csv's the CPTS
    layers.push(Layer {
        name: "communes",
        description: "Communes with their verdict (covered, white, overlap) and claimants".into(),
        table: stats.communes.clone(),
        geometries: (0..communes.len() as u32)
            .map(|i| &communes.get(i).geometry)
            .collect(),
    });
    let colours = crate::style::territory_colours(
        decl.cpts.len(),
        &crate::style::neighbouring_territories(analysis),
    );
    let mut territories = stats.cpts.clone();
    territories
        .with_column(col(
            "fill",
            colours
                .iter()
                .map(|&c| crate::style::colour_of(c))
                .collect::<Vec<_>>(),
        ))
        .map_err(|source| Error::Table {
            context: "territories layer".into(),
            source,
        })?;
    layers.push(Layer {
        name: "territories",
        description: "CPTS territories (dissolved); fill: the map's colour".into(),
        table: territories,
        geometries: outlines.territories.iter().collect(),
    });
    let zones = &cov.white_zones;
    layers.push(Layer {
        name: "white_zones",
        description: "Zones blanches: adjacent communes claimed by no CPTS".into(),
        table: frame(
            "white_zones",
            vec![
                col("zone_id", zones.iter().map(|z| z.id).collect::<Vec<_>>()),
                col(
                    "communes",
                    zones
                        .iter()
                        .map(|z| z.members.len() as u64)
                        .collect::<Vec<_>>(),
                ),
                col(
                    "codes",
                    zones
                        .iter()
                        .map(|z| codes_of(&z.members))
                        .collect::<Vec<_>>(),
                ),
                col(
                    "population",
                    zones.iter().map(|z| z.population).collect::<Vec<_>>(),
                ),
                col(
                    "area_km2",
                    zones.iter().map(|z| round6(z.area_km2)).collect::<Vec<_>>(),
                ),
            ],
        )?,
        geometries: outlines.white_zones.iter().collect(),
    });
    let pieces = |name: &'static str,
                  description: &str,
                  kind: &dyn Fn(&crate::overlay::Piece) -> &'static str,
                  list: &'a [crate::overlay::Piece]|
     -> Result<Layer<'a>> {
        Ok(Layer {
            name,
            description: description.into(),
            table: frame(
                name,
                vec![
                    col("kind", list.iter().map(kind).collect::<Vec<_>>()),
                    col("piece_id", (1..=list.len() as u32).collect::<Vec<_>>()),
                    col(
                        "cpts_ids",
                        list.iter().map(|p| ids_of(&p.owners)).collect::<Vec<_>>(),
                    ),
                    col(
                        "communes",
                        list.iter()
                            .map(|p| p.communes.len() as u64)
                            .collect::<Vec<_>>(),
                    ),
                    col(
                        "codes",
                        list.iter()
                            .map(|p| codes_of(&p.communes))
                            .collect::<Vec<_>>(),
                    ),
                    col(
                        "population",
                        list.iter()
                            .map(|p| p.population.round() as u64)
                            .collect::<Vec<_>>(),
                    ),
                    col(
                        "area_km2",
                        list.iter().map(|p| round6(p.area_km2)).collect::<Vec<_>>(),
                    ),
                ],
            )?,
            geometries: list.iter().map(|p| &p.geometry).collect(),
        })
    };
    if let Some(overlay) = &cov.overlay {
        layers.push(pieces(
            "overlaps",
            OVERLAPS,
            &|_| "overlap",
            &overlay.overlaps,
        )?);
        layers.push(pieces(
            "slivers",
            "Gap and overlap pieces under the sliver tolerance",
            &|p| {
                if p.owners.is_empty() {
                    "gap"
                } else {
                    "overlap"
                }
            },
            &overlay.slivers,
        )?);
    } else {
        let over: Vec<usize> = (0..communes.len())
            .filter(|&i| cov.claimants[i].len() > 1)
            .collect();
        layers.push(Layer {
            name: "overlaps",
            description: OVERLAPS.into(),
            table: frame(
                "overlaps",
                vec![
                    col(
                        "code",
                        over.iter()
                            .map(|&i| communes.get(i as u32).code.as_str())
                            .collect::<Vec<_>>(),
                    ),
                    col(
                        "name",
                        over.iter()
                            .map(|&i| communes.get(i as u32).name.as_str())
                            .collect::<Vec<_>>(),
                    ),
                    col(
                        "cpts_ids",
                        over.iter()
                            .map(|&i| ids_of(&cov.claimants[i]))
                            .collect::<Vec<_>>(),
                    ),
                    col(
                        "population",
                        over.iter()
                            .map(|&i| communes.population[i])
                            .collect::<Vec<_>>(),
                    ),
                    col(
                        "area_km2",
                        over.iter()
                            .map(|&i| round6(communes.area_km2[i]))
                            .collect::<Vec<_>>(),
                    ),
                ],
            )?,
            geometries: over
                .iter()
                .map(|&i| &communes.get(i as u32).geometry)
                .collect(),
        });
    }
    Ok(layers)
}

pub(crate) use crate::stats::round6;

/// CPTS ids (positions in `decl`), `|`-joined as in every table.
pub(crate) fn join_ids(decl: &crate::load::Declarations, owners: &[u32]) -> String {
    owners
        .iter()
        .map(|&k| decl.cpts[k as usize].id.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

/// INSEE codes (positions in `communes`), `|`-joined.
pub(crate) fn join_codes(communes: &crate::load::Communes, members: &[u32]) -> String {
    members
        .iter()
        .map(|&i| communes.get(i).code.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

/// The attribute-only tables: `cpts`, `departements`, `regions`.
pub fn attribute_tables(stats: &Stats) -> [(&'static str, &DataFrame); 3] {
    [
        ("cpts", &stats.cpts),
        ("departements", &stats.departements),
        ("regions", &stats.regions),
    ]
}

/// Bounding box `[xmin, ymin, xmax, ymax]`, `None` for an empty geometry.
pub fn bbox(g: &MultiPolygon<f64>) -> Option<[f64; 4]> {
    g.bounding_rect()
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

/// The union of boxes.
pub fn union(boxes: impl IntoIterator<Item = [f64; 4]>) -> Option<[f64; 4]> {
    boxes.into_iter().reduce(|a, b| {
        [
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ]
    })
}

/// Appends the ISO WKB (little-endian) of a multipolygon: type 6, each polygon
/// type 3, rings as stored (closed).
pub fn wkb(out: &mut Vec<u8>, g: &MultiPolygon<f64>) {
    let u32le = |out: &mut Vec<u8>, v: usize| out.extend_from_slice(&(v as u32).to_le_bytes());
    out.push(1);
    u32le(out, 6);
    u32le(out, g.0.len());
    for p in &g.0 {
        out.push(1);
        u32le(out, 3);
        u32le(out, 1 + p.interiors().len());
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            u32le(out, ring.0.len());
            out.reserve(ring.0.len() * 16);
            for c in &ring.0 {
                out.extend_from_slice(&c.x.to_le_bytes());
                out.extend_from_slice(&c.y.to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn wkb_of_a_square_with_a_hole_has_the_standard_layout() {
        let p = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)],
            interiors: [[(x: 1.0, y: 1.0), (x: 1.0, y: 2.0), (x: 2.0, y: 2.0), (x: 2.0, y: 1.0)]],
        );
        let mut out = Vec::new();
        wkb(&mut out, &MultiPolygon::new(vec![p]));
        // header 9, polygon header 9, two rings of 5 points: 2 × (4 + 80)
        assert_eq!(out.len(), 9 + 9 + 2 * (4 + 5 * 16));
        assert_eq!(&out[..9], &[1, 6, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&out[9..18], &[1, 3, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(&out[18..22], &[5, 0, 0, 0]);
        assert_eq!(f64::from_le_bytes(out[38..46].try_into().unwrap()), 4.0);
        assert_eq!(
            bbox(&MultiPolygon::new(vec![])),
            None,
            "an empty geometry has no box"
        );
    }
}
