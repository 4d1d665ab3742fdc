//! Coordinate reference systems: the projected CRSs French commune layers come in
//! (Lambert-93, the overseas UTM zones of Admin Express, the Lambert CC zones,
//! Web Mercator) read back to longitude/latitude with [`proj4rs`], a pure-Rust port
//! of PROJ.4 (no system GDAL or PROJ needed).
//!
//! A CRS is recognised from an EPSG code (`EPSG:2154`,
//! `urn:ogc:def:crs:EPSG::2154`, a GeoPackage `srs_id`), or from the WKT of a
//! Shapefile `.prj`: its EPSG authority when it has one, otherwise its projection
//! and parameters (`Lambert_Conformal_Conic`, `Transverse_Mercator`). The French
//! geodetic systems (RGF93, RGAF09, RGFG95, RGR92, RGM04) are realisations of ITRS
//! on the GRS80 ellipsoid that agree with WGS84 to a few centimetres, so no datum
//! shift is applied to them; a CRS on another datum (NTF, ED50…) is refused rather
//! than misplaced by hundreds of metres.

use crate::error::CrsError;
use geo::Coord;
use proj4rs::transform::{transform, Transform, TransformClosure};
use proj4rs::Proj;

/// A coordinate reference system that maillage can read coordinates in.
#[derive(Debug)]
pub struct Crs {
    /// How it was recognised, for reports: `EPSG:2154 (RGF93 / Lambert-93)`.
    pub label: String,
    /// `None` for longitude/latitude in degrees.
    projection: Option<Proj>,
    /// Where the CRS is meant to be used, as a longitude/latitude box (with a
    /// margin), and its name: a vertex reprojected outside it is refused.
    domain: Option<(&'static str, [f64; 4])>,
}

/// The longest distance from a projection's origin a French layer can have,
/// metres: beyond it a coordinate is a damaged vertex, not a position.
const MAX_PROJECTED: f64 = 1e8;

/// The domain of use of the EPSG codes maillage knows (EPSG's area of use, with
/// a margin of about 1.5°): `[west, south, east, north]`.
fn domain(code: u32) -> Option<(&'static str, [f64; 4])> {
    Some(match code {
        2154 | 3942..=3950 => ("metropolitan France", [-11.5, 39.5, 12.0, 53.0]),
        5490 => ("Guadeloupe and Martinique", [-64.0, 13.0, -59.0, 19.0]),
        2972 => ("Guyane", [-56.0, 1.0, -50.0, 7.0]),
        2975 => ("La Réunion", [54.0, -23.0, 57.5, -19.0]),
        4471 => ("Mayotte", [44.0, -14.0, 46.0, -11.5]),
        3857 => ("the Web Mercator world", [-180.0, -86.0, 180.0, 86.0]),
        32601..=32660 => {
            let c = -183.0 + 6.0 * f64::from(code - 32600);
            ("its UTM zone", [c - 9.0, -10.0, c + 9.0, 85.0])
        }
        32701..=32760 => {
            let c = -183.0 + 6.0 * f64::from(code - 32700);
            ("its UTM zone", [c - 9.0, -81.0, c + 9.0, 10.0])
        }
        _ => return None,
    })
}

// GRS80 with a null shift to WGS84: the French ITRS realisations.
const GRS80: &str = "+ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs";

/// The EPSG codes known without a WKT: (code, name, proj string or "" for lon/lat).
fn known(code: u32) -> Option<(String, String)> {
    let (name, proj) = match code {
        4326 => ("WGS 84".to_owned(), String::new()),
        4171 => ("RGF93 v1 (geographic)".to_owned(), String::new()),
        4258 => ("ETRS89 (geographic)".to_owned(), String::new()),
        2154 => (
            "RGF93 v1 / Lambert-93".to_owned(),
            format!("+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 {GRS80}"),
        ),
        3942..=3950 => {
            let zone = code - 3900; // 42..50: latitude of origin
            (
                format!("RGF93 v1 / CC{zone}"),
                format!(
                    "+proj=lcc +lat_0={zone} +lon_0=3 +lat_1={} +lat_2={} +x_0=1700000 +y_0={} {GRS80}",
                    zone as f64 - 0.75,
                    zone as f64 + 0.75,
                    (zone - 42) * 1_000_000 + 1_200_000
                ),
            )
        }
        5490 => (
            "RGAF09 / UTM zone 20N (Guadeloupe, Martinique)".to_owned(),
            format!("+proj=utm +zone=20 {GRS80}"),
        ),
        2972 => (
            "RGFG95 / UTM zone 22N (Guyane)".to_owned(),
            format!("+proj=utm +zone=22 {GRS80}"),
        ),
        2975 => (
            "RGR92 / UTM zone 40S (La Réunion)".to_owned(),
            format!("+proj=utm +zone=40 +south {GRS80}"),
        ),
        4471 => (
            "RGM04 / UTM zone 38S (Mayotte)".to_owned(),
            format!("+proj=utm +zone=38 +south {GRS80}"),
        ),
        3857 => (
            "WGS 84 / Pseudo-Mercator".to_owned(),
            "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +no_defs".to_owned(),
        ),
        32601..=32660 => (
            format!("WGS 84 / UTM zone {}N", code - 32600),
            format!("+proj=utm +zone={} +datum=WGS84 +units=m +no_defs", code - 32600),
        ),
        32701..=32760 => (
            format!("WGS 84 / UTM zone {}S", code - 32700),
            format!("+proj=utm +zone={} +south +datum=WGS84 +units=m +no_defs", code - 32700),
        ),
        _ => return None,
    };
    Some((name, proj))
}

impl From<String> for CrsError {
    fn from(s: String) -> CrsError {
        CrsError(s)
    }
}

impl Crs {
    /// Longitude/latitude in degrees (WGS84, RFC 7946).
    pub fn lon_lat() -> Crs {
        Crs {
            label: "EPSG:4326 (WGS 84)".to_owned(),
            projection: None,
            domain: None,
        }
    }

    /// True for longitude/latitude.
    pub fn is_lon_lat(&self) -> bool {
        self.projection.is_none()
    }

    /// A CRS from its EPSG code.
    ///
    /// # Errors
    /// A sentence naming the code when maillage does not know it.
    pub fn from_epsg(code: u32) -> Result<Crs, CrsError> {
        let (name, proj) = known(code).ok_or_else(|| {
            format!("EPSG:{code} is not a CRS maillage can read (known: 4326, 4171, 2154, 3942–3950, 5490, 2972, 2975, 4471, 3857, UTM 326xx/327xx); reproject to EPSG:2154 or 4326 first")
        })?;
        let label = format!("EPSG:{code} ({name})");
        if proj.is_empty() {
            return Ok(Crs {
                label,
                projection: None,
                domain: None,
            });
        }
        let projection = Proj::from_proj_string(&proj).map_err(|e| format!("{label}: {e}"))?;
        Ok(Crs {
            label,
            projection: Some(projection),
            domain: domain(code),
        })
    }

    /// A CRS from a name as GeoJSON's `crs` member or a user writes it:
    /// `EPSG:2154`, `urn:ogc:def:crs:EPSG::2154`, `2154`, `CRS84`.
    ///
    /// # Errors
    /// A sentence naming the text when it is not understood.
    ///
    /// # Examples
    /// ```
    /// use maillage::geometry::Crs;
    /// assert!(Crs::from_name("urn:ogc:def:crs:OGC:1.3:CRS84").unwrap().is_lon_lat());
    /// assert!(!Crs::from_name("urn:ogc:def:crs:EPSG::2154").unwrap().is_lon_lat());
    /// assert!(Crs::from_name("EPSG:27572").is_err()); // NTF needs a datum shift
    /// ```
    pub fn from_name(name: &str) -> Result<Crs, CrsError> {
        let t = name.trim();
        let upper = t.to_ascii_uppercase();
        if upper.ends_with("CRS84") || upper == "WGS84" {
            return Ok(Crs::lon_lat());
        }
        let digits = upper.rsplit([':', '/']).next().unwrap_or("");
        if upper.contains("EPSG") || upper.chars().all(|c| c.is_ascii_digit()) {
            if let Ok(code) = digits.parse::<u32>() {
                return Crs::from_epsg(code);
            }
        }
        Err(CrsError(format!(
            "CRS {t:?} is not understood (expected EPSG:<code> or urn:ogc:def:crs:EPSG::<code>)"
        )))
    }

    /// A CRS from well-known text (WKT 1, as in Shapefile `.prj` files, ESRI or OGC
    /// flavour).
    ///
    /// # Errors
    /// A sentence naming the CRS when its projection or datum is not supported.
    pub fn from_wkt(wkt: &str) -> Result<Crs, CrsError> {
        let wkt = wkt.trim();
        let name = quoted_after(wkt, "[").unwrap_or_default();
        // an EPSG authority at the end of the top-level object
        if let Some(code) = top_authority(wkt) {
            if let Ok(crs) = Crs::from_epsg(code) {
                return Ok(crs);
            }
        }
        let upper = wkt.to_ascii_uppercase();
        let datum = quoted_after(wkt, "DATUM[").unwrap_or_default();
        let d = datum.to_ascii_uppercase().replace([' ', '_', '-'], "");
        let ellipsoid_ok = upper.contains("GRS_1980")
            || upper.contains("GRS 1980")
            || upper.contains("GRS80")
            || upper.contains("WGS_1984")
            || upper.contains("WGS 84")
            || upper.contains("WGS84");
        let datum_ok = [
            "RGF",
            "RGAF",
            "RGFG",
            "RGR",
            "RGM",
            "WGS",
            "ETRS",
            "ITRF",
            "RESEAUGEODESIQUE",
        ]
        .iter()
        .any(|k| d.contains(k));
        if !(ellipsoid_ok && datum_ok) {
            return Err(CrsError(format!(
                "CRS {name:?} (datum {datum:?}) is not on RGF93/WGS84 and would need a datum shift maillage does not do; reproject the layer to EPSG:2154 or 4326 first"
            )));
        }
        let towgs = if d.contains("WGS") {
            "+datum=WGS84 +units=m +no_defs".to_owned()
        } else {
            GRS80.to_owned()
        };
        if !upper.starts_with("PROJCS") {
            return Ok(Crs {
                label: format!("{name} (longitude/latitude)"),
                projection: None,
                domain: None,
            });
        }
        let projection = quoted_after(wkt, "PROJECTION[").unwrap_or_default();
        let p = |key: &str| parameter(wkt, key);
        let to_meter = unit_after_projection(wkt).unwrap_or(1.0);
        let common = |lat0: f64| {
            format!(
                "+lat_0={lat0} +lon_0={} +x_0={} +y_0={} +to_meter={to_meter} {towgs}",
                p("central_meridian")
                    .or(p("longitude_of_origin"))
                    .unwrap_or(0.0),
                p("false_easting").unwrap_or(0.0),
                p("false_northing").unwrap_or(0.0),
            )
        };
        let lat0 = p("latitude_of_origin")
            .or(p("latitude_of_center"))
            .unwrap_or(0.0);
        let proj = match projection.to_ascii_lowercase().as_str() {
            "lambert_conformal_conic" | "lambert_conformal_conic_2sp" => match (
                p("standard_parallel_1"),
                p("standard_parallel_2"),
            ) {
                (Some(s1), Some(s2)) => format!("+proj=lcc +lat_1={s1} +lat_2={s2} {}", common(lat0)),
                _ => format!(
                    "+proj=lcc +lat_1={lat0} +k_0={} {}",
                    p("scale_factor").unwrap_or(1.0),
                    common(lat0)
                ),
            },
            "lambert_conformal_conic_1sp" => format!(
                "+proj=lcc +lat_1={lat0} +k_0={} {}",
                p("scale_factor").unwrap_or(1.0),
                common(lat0)
            ),
            "transverse_mercator" => format!(
                "+proj=tmerc +k_0={} {}",
                p("scale_factor").unwrap_or(1.0),
                common(lat0)
            ),
            other => {
                return Err(CrsError(format!(
                    "CRS {name:?}: projection {other:?} is not supported (Lambert conformal conic and transverse Mercator are); reproject to EPSG:2154 or 4326 first"
                )))
            }
        };
        let projection = Proj::from_proj_string(&proj).map_err(|e| format!("CRS {name:?}: {e}"))?;
        Ok(Crs {
            label: format!("{name} (from its WKT)"),
            projection: Some(projection),
            domain: None,
        })
    }

    /// Transforms coordinates in place to longitude/latitude in degrees.
    ///
    /// # Errors
    /// [`CrsError`] when a coordinate is not a finite position (`inf`, `1e308`: a
    /// damaged vertex), cannot be transformed, or lands outside the CRS's domain
    /// of use (a wrong CRS, or a damaged vertex that would otherwise be drawn at
    /// the South Pole).
    ///
    /// ```
    /// use maillage::geometry::Crs;
    /// let l93 = Crs::from_epsg(2154).unwrap();
    /// let mut ok = [geo::Coord { x: 700_000.0, y: 6_600_000.0 }];
    /// assert!(l93.to_lon_lat(&mut ok).is_ok());
    /// let mut far = [geo::Coord { x: -1e15, y: 6_600_000.0 }];
    /// assert!(l93.to_lon_lat(&mut far).unwrap_err().0.contains("not a finite position"));
    /// let mut wrong = [geo::Coord { x: 5_000_000.0, y: 6_600_000.0 }];
    /// assert!(l93.to_lon_lat(&mut wrong).unwrap_err().0.contains("metropolitan France"));
    /// ```
    pub fn to_lon_lat(&self, coords: &mut [Coord<f64>]) -> Result<(), CrsError> {
        let Some(src) = &self.projection else {
            return Ok(());
        };
        if let Some(c) = coords
            .iter()
            .find(|c| !(c.x.abs() <= MAX_PROJECTED && c.y.abs() <= MAX_PROJECTED))
        {
            return Err(CrsError(format!(
                "coordinate ({}, {}) is not a finite position in {} (a damaged vertex)",
                c.x, c.y, self.label
            )));
        }
        let dst = wgs84();
        let mut points = Points(coords);
        transform(src, dst, &mut points)
            .map_err(|e| format!("cannot reproject from {}: {e}", self.label))?;
        for c in points.0.iter_mut() {
            c.x = c.x.to_degrees();
            c.y = c.y.to_degrees();
        }
        if let Some((area, [w, s, e, n])) = self.domain {
            if let Some(c) = points
                .0
                .iter()
                .find(|c| !(c.x >= w && c.x <= e && c.y >= s && c.y <= n))
            {
                // the vertex as the file gave it, projected back (only on failure:
                // no copy of every ring for a message)
                let mut o = [*c];
                let o = self.project(&mut o).map_or(*c, |()| o[0]);
                return Err(CrsError(format!(
                    "coordinate ({}, {}) lands at ({:.4}°, {:.4}°), outside the domain of {} ({area}): a damaged vertex, or the layer is in another CRS (--crs)",
                    o.x.round(), o.y.round(), c.x, c.y, self.label
                )));
            }
        }
        Ok(())
    }
}

impl Crs {
    /// Transforms longitude/latitude in degrees, in place, to this CRS (the
    /// inverse of [`Crs::to_lon_lat`]); maps use it to draw in Lambert-93 or an
    /// overseas UTM zone.
    ///
    /// # Errors
    /// A sentence when a point cannot be transformed (far outside the projection).
    ///
    /// # Examples
    /// ```
    /// use maillage::geometry::Crs;
    /// let l93 = Crs::from_epsg(2154).unwrap();
    /// // the projection's origin: 3°E 46.5°N is (700 000, 6 600 000)
    /// let mut p = [geo::Coord { x: 3.0, y: 46.5 }];
    /// l93.project(&mut p).unwrap();
    /// assert!((p[0].x - 700_000.0).abs() < 1e-3 && (p[0].y - 6_600_000.0).abs() < 1e-3);
    /// ```
    pub fn project(&self, coords: &mut [Coord<f64>]) -> Result<(), CrsError> {
        let Some(dst) = &self.projection else {
            return Ok(());
        };
        for c in coords.iter_mut() {
            c.x = c.x.to_radians();
            c.y = c.y.to_radians();
        }
        let mut points = Points(coords);
        transform(wgs84(), dst, &mut points)
            .map_err(|e| CrsError(format!("cannot project to {}: {e}", self.label)))
    }
}

/// The projected CRS a département is drawn and measured in, as Admin Express
/// ships it: Lambert-93 (EPSG:2154) for metropolitan France and Corsica, the
/// overseas départements in their UTM zones (5490 Antilles, 2972 Guyane, 2975 La
/// Réunion, 4471 Mayotte; 32621 Saint-Pierre-et-Miquelon). Returns the EPSG code
/// and the name of the place.
///
/// # Examples
/// ```
/// use maillage::geometry::departement_crs;
/// assert_eq!(departement_crs("2A"), (2154, "France métropolitaine"));
/// assert_eq!(departement_crs("974"), (2975, "La Réunion"));
/// ```
pub fn departement_crs(dep: &str) -> (u32, &'static str) {
    match dep {
        "971" => (5490, "Guadeloupe"),
        "972" => (5490, "Martinique"),
        "973" => (2972, "Guyane"),
        "974" => (2975, "La Réunion"),
        "976" => (4471, "Mayotte"),
        "975" => (32621, "Saint-Pierre-et-Miquelon"),
        "977" => (5490, "Saint-Barthélemy"),
        "978" => (5490, "Saint-Martin"),
        d if d.starts_with("98") => (3857, "Outre-mer"),
        _ => (2154, "France métropolitaine"),
    }
}

fn wgs84() -> &'static Proj {
    static P: std::sync::OnceLock<Proj> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        // proof: a constant definition, tested (no input reaches it)
        Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs")
            .expect("a valid WGS84 definition")
    })
}

struct Points<'a>(&'a mut [Coord<f64>]);

impl Transform for Points<'_> {
    fn transform_coordinates<F: TransformClosure>(
        &mut self,
        f: &mut F,
    ) -> proj4rs::errors::Result<()> {
        for c in self.0.iter_mut() {
            let (x, y, _) = f(c.x, c.y, 0.0)?;
            c.x = x;
            c.y = y;
        }
        Ok(())
    }
}

/// The first double-quoted string after `key`.
fn quoted_after(text: &str, key: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    let at = upper.find(&key.to_ascii_uppercase())? + key.len();
    let rest = &text[at..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    Some(rest[start..end].to_owned())
}

/// A numeric `PARAMETER["name", value]`, name compared case-insensitively.
fn parameter(wkt: &str, key: &str) -> Option<f64> {
    let upper = wkt.to_ascii_uppercase();
    let needle = format!("PARAMETER[\"{}\"", key.to_ascii_uppercase());
    let at = upper.find(&needle)? + needle.len();
    let rest = &wkt[at..];
    let rest = rest.trim_start().strip_prefix(',')?;
    let end = rest.find([']', ','])?;
    rest[..end].trim().parse().ok()
}

/// The linear unit of a PROJCS: the last `UNIT[…, factor]` at top level.
fn unit_after_projection(wkt: &str) -> Option<f64> {
    let upper = wkt.to_ascii_uppercase();
    let at = upper.rfind("UNIT[")?;
    upper[..at].rfind("PROJECTION[")?;
    let rest = &wkt[at..];
    let comma = rest.find(',')? + 1;
    let end = rest[comma..].find([']', ','])? + comma;
    rest[comma..end].trim().parse().ok()
}

/// The EPSG code of the top-level object: the `AUTHORITY["EPSG","n"]` closing it.
fn top_authority(wkt: &str) -> Option<u32> {
    let upper = wkt.to_ascii_uppercase();
    let at = upper.rfind("AUTHORITY[")?;
    // it must be followed only by the closing brackets of the top-level object
    let rest = &upper[at..];
    let close = rest.find(']')?;
    if rest[close + 1..].trim().trim_matches(']').trim() != "" {
        return None;
    }
    let inner = &rest["AUTHORITY[".len()..close];
    let mut parts = inner.split(',').map(|s| s.trim().trim_matches('"'));
    if parts.next()? != "EPSG" {
        return None;
    }
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(crs: &Crs, x: f64, y: f64) -> (f64, f64) {
        let mut c = [Coord { x, y }];
        crs.to_lon_lat(&mut c).unwrap();
        (c[0].x, c[0].y)
    }

    /// Reference points from IGN's published definition of Lambert-93: the projection
    /// origin (3°E, 46.5°N) maps to (700 000, 6 600 000).
    #[test]
    fn lambert_93_origin_and_the_wkt_of_a_prj_agree() {
        let by_code = Crs::from_epsg(2154).unwrap();
        let (lon, lat) = round_trip(&by_code, 700_000.0, 6_600_000.0);
        assert!(
            (lon - 3.0).abs() < 1e-9 && (lat - 46.5).abs() < 1e-9,
            "{lon} {lat}"
        );
        let prj = r#"PROJCS["RGF_1993_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",6600000.0],PARAMETER["Central_Meridian",3.0],PARAMETER["Standard_Parallel_1",49.0],PARAMETER["Standard_Parallel_2",44.0],PARAMETER["Latitude_Of_Origin",46.5],UNIT["Meter",1.0]]"#;
        let by_wkt = Crs::from_wkt(prj).unwrap();
        for (x, y) in [(1_000_000.0, 6_400_000.0), (200_000.0, 7_000_000.0)] {
            let a = round_trip(&by_code, x, y);
            let b = round_trip(&by_wkt, x, y);
            assert!((a.0 - b.0).abs() < 1e-10 && (a.1 - b.1).abs() < 1e-10);
        }
    }

    #[test]
    fn other_datums_are_refused_not_misplaced() {
        let ntf = r#"PROJCS["NTF_Paris_Lambert_II_etendu",GEOGCS["GCS_NTF_Paris",DATUM["D_NTF",SPHEROID["Clarke_1880_IGN",6378249.2,293.4660212936265]],PRIMEM["Paris",2.337229166666667],UNIT["Grad",0.01570796326794897]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",600000.0],PARAMETER["False_Northing",2200000.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",46.8],PARAMETER["Scale_Factor",0.99987742],PARAMETER["Latitude_Of_Origin",46.8],UNIT["Meter",1.0]]"#;
        let e = Crs::from_wkt(ntf).unwrap_err();
        assert!(
            e.0.contains("NTF_Paris_Lambert_II_etendu") && e.0.contains("datum shift"),
            "{e}"
        );
        assert!(Crs::from_epsg(27572).unwrap_err().0.contains("EPSG:27572"));
    }
}
