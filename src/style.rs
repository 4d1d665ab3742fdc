//! The cartographic style shared by every drawn output (maps, the report, the
//! GeoPackage's QGIS styles): colours of territories, statuses, zones blanches and
//! chevauchements, and the colouring that gives neighbouring territories different
//! colours.
//!
//! Colours are ColorBrewer's (Cynthia Brewer, Apache-2.0 licence): a pastel
//! qualitative scheme for territories (`Set3` without its red, kept for zones
//! blanches), a green–yellow sequence for the three statuses as the DGOS atlas of
//! CPTS shows them.

use crate::analysis::Analysis;
use crate::load::Status;

/// Territory fills: neighbours never share one (see `territory_colours`).
pub const PALETTE: [&str; 10] = [
    "#8dd3c7", "#ffffb3", "#bebada", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#ccebc5",
    "#bc80bd", "#ffed6f",
];

/// Zones blanches: a saturated red, above every territory.
pub const WHITE_ZONE: &str = "#e31a1c";
/// Chevauchements: hatched in this dark purple over `OVERLAP_BACKGROUND`.
pub const OVERLAP: &str = "#54278f";
/// The background of the chevauchement hatching.
pub const OVERLAP_BACKGROUND: &str = "#dadaeb";
/// Communes of the study area under no drawn territory (the base layer).
pub const BASE: &str = "#f0f0f0";
/// Borders of départements.
pub const DEPARTEMENT_BORDER: &str = "#141414";
/// Borders of territories.
pub const TERRITORY_BORDER: &str = "#7f7f7f";

/// The fill of a CPTS by status: ACI signé, projet de santé validé, projet (lettre
/// d'intention), unknown. A dark blue, a light blue and a pale yellow, so that
/// they stay apart from the zones blanches' red under every colour-vision
/// deficiency (tested with Machado's simulation): the DGOS atlas's green for ACI
/// signé (#1a9850) was 1.28:1 from that red in brightness and merged with it
/// under deuteranopia; this blue is 2.2:1.
pub fn status_colour(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::AciSigne) => "#253494",
        Some(Status::Valide) => "#abd9e9",
        Some(Status::Projet) => "#ffffbf",
        None => "#bdbdbd",
    }
}

/// The French label of a status, as the DGOS atlas writes it.
pub fn status_label(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::AciSigne) => "ACI signé",
        Some(Status::Valide) => "Projet de santé validé",
        Some(Status::Projet) => "Projet (lettre d'intention)",
        None => "Statut inconnu",
    }
}

/// Pairs of CPTS (positions, `a < b`) whose territories share a border or some
/// ground, sorted: two CPTS claiming the same commune, or adjacent communes.
///
/// With drawn territories a CPTS "claims" each commune it covers a part of, so the
/// pairs are a superset of the truly touching ones: colours stay different where
/// it matters, at the cost of a few more constraints.
pub fn neighbouring_territories(analysis: &Analysis) -> Vec<(u32, u32)> {
    let claimants = &analysis.coverage.claimants;
    let mut pairs = Vec::new();
    for (i, here) in claimants.iter().enumerate() {
        for (x, &a) in here.iter().enumerate() {
            for &b in &here[x + 1..] {
                pairs.push((a.min(b), a.max(b)));
            }
        }
        for &j in analysis.adjacency.neighbours(i as u32) {
            if (j as usize) <= i {
                continue;
            }
            for &a in here {
                for &b in &claimants[j as usize] {
                    if a != b {
                        pairs.push((a.min(b), a.max(b)));
                    }
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// A colour index for each CPTS (positions in `Declarations::cpts`) such that no
/// two neighbouring territories share one: DSatur greedy colouring of the
/// [`neighbouring_territories`] graph, ties broken by degree then by CPTS
/// position (that is, by id), so the same declarations give the same colours
/// every month. Indices below [`PALETTE`]`.len()` are palette colours; DSatur uses
/// at most 5 or 6 on maps like these, and [`colour_of`] has more if ever needed.
///
/// # Performance
/// O(n² + e) for n CPTS and e pairs: a few milliseconds for a thousand CPTS.
pub fn territory_colours(n: usize, pairs: &[(u32, u32)]) -> Vec<usize> {
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in pairs {
        adj[a as usize].push(b as usize);
        adj[b as usize].push(a as usize);
    }
    let mut colour: Vec<Option<usize>> = vec![None; n];
    let mut seen: Vec<Vec<bool>> = vec![Vec::new(); n]; // colours among neighbours
    let mut saturation = vec![0usize; n];
    for _ in 0..n {
        // the uncoloured vertex with most distinct neighbour colours, then most
        // neighbours, then the first
        let Some(v) = (0..n).filter(|&v| colour[v].is_none()).max_by(|&a, &b| {
            saturation[a]
                .cmp(&saturation[b])
                .then(adj[a].len().cmp(&adj[b].len()))
                .then(b.cmp(&a))
        }) else {
            break;
        };
        let c = (0..)
            .find(|&c| !seen[v].get(c).copied().unwrap_or(false))
            .unwrap_or(0);
        colour[v] = Some(c);
        for &w in &adj[v] {
            if seen[w].len() <= c {
                seen[w].resize(c + 1, false);
            }
            if !seen[w][c] {
                seen[w][c] = true;
                saturation[w] += 1;
            }
        }
    }
    colour.into_iter().map(|c| c.unwrap_or(0)).collect()
}

/// The fill of colour index `k`: the palette, then (never seen on real maps)
/// further pastel hues spread by the golden angle.
pub fn colour_of(k: usize) -> String {
    match PALETTE.get(k) {
        Some(c) => (*c).to_owned(),
        None => {
            let hue = (k as f64 * 137.508) % 360.0;
            hsl_hex(hue, 0.55, 0.78)
        }
    }
}

fn hsl_hex(h: f64, s: f64, l: f64) -> String {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proper(colours: &[usize], pairs: &[(u32, u32)]) -> bool {
        pairs
            .iter()
            .all(|&(a, b)| colours[a as usize] != colours[b as usize])
    }

    #[test]
    fn a_wheel_needs_four_colours_and_gets_them() {
        // hub 0 and a rim of 5 (odd cycle): 4 colours
        let mut pairs: Vec<(u32, u32)> = (1..=5).map(|k| (0, k)).collect();
        pairs.extend(
            (1..=5)
                .map(|k| (k, k % 5 + 1))
                .map(|(a, b)| (a.min(b), a.max(b))),
        );
        let c = territory_colours(6, &pairs);
        assert!(proper(&c, &pairs));
        assert_eq!(c.iter().max(), Some(&3));
    }

    #[test]
    fn colouring_is_proper_on_a_grid_and_uses_two_colours() {
        let (w, h) = (7u32, 5u32);
        let mut pairs = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let v = y * w + x;
                if x + 1 < w {
                    pairs.push((v, v + 1));
                }
                if y + 1 < h {
                    pairs.push((v, v + w));
                }
            }
        }
        let c = territory_colours((w * h) as usize, &pairs);
        assert!(proper(&c, &pairs));
        assert_eq!(c.iter().max(), Some(&1));
    }

    #[test]
    fn extra_colours_are_valid_hex() {
        for k in 0..40 {
            let c = colour_of(k);
            assert_eq!(c.len(), 7, "{c}");
            assert!(c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit()));
        }
        assert_ne!(colour_of(10), colour_of(11));
    }
}

#[cfg(test)]
mod palette_tests {
    use super::*;

    fn linear(c: u8) -> f64 {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }

    fn rgb(hex: &str) -> [f64; 3] {
        let v = |k: usize| linear(u8::from_str_radix(&hex[k..k + 2], 16).unwrap());
        [v(1), v(3), v(5)]
    }

    fn luminance(hex: &str) -> f64 {
        let [r, g, b] = rgb(hex);
        0.2126 * r + 0.7152 * g + 0.0722 * b
    }

    /// The colour seen with a colour-vision deficiency (Machado, Oliveira and
    /// Fernandes 2009, severity 1), back in sRGB 0–255.
    fn seen(hex: &str, m: &[[f64; 3]; 3]) -> [f64; 3] {
        let l = rgb(hex);
        let back = |v: f64| {
            let v = v.clamp(0.0, 1.0);
            255.0
                * if v <= 0.003_130_8 {
                    12.92 * v
                } else {
                    1.055 * v.powf(1.0 / 2.4) - 0.055
                }
        };
        [0, 1, 2].map(|r| back(m[r][0] * l[0] + m[r][1] * l[1] + m[r][2] * l[2]))
    }

    #[test]
    fn statuses_stay_apart_from_zones_blanches_under_colour_blindness() {
        let deficiencies = [
            (
                "protanopia",
                [
                    [0.152_286, 1.052_583, -0.204_868],
                    [0.114_503, 0.786_281, 0.099_216],
                    [-0.003_882, -0.048_116, 1.051_998],
                ],
            ),
            (
                "deuteranopia",
                [
                    [0.367_322, 0.860_646, -0.227_968],
                    [0.280_085, 0.672_501, 0.047_413],
                    [-0.011_820, 0.042_940, 0.968_881],
                ],
            ),
            (
                "tritanopia",
                [
                    [1.255_528, -0.076_749, -0.178_779],
                    [-0.078_411, 0.930_809, 0.147_602],
                    [0.004_733, 0.691_367, 0.303_900],
                ],
            ),
        ];
        let statuses = [
            Some(Status::AciSigne),
            Some(Status::Valide),
            Some(Status::Projet),
        ];
        for (name, m) in &deficiencies {
            for s in statuses {
                let (a, b) = (seen(WHITE_ZONE, m), seen(status_colour(s), m));
                let d =
                    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
                assert!(
                    d > 100.0,
                    "{name}: {s:?} is {d:.0} from the zones blanches' red"
                );
            }
            // the former ACI green was within reach of the red
            let (a, b) = (seen(WHITE_ZONE, m), seen("#1a9850", m));
            let d = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
            assert!(*name == "tritanopia" || d < 100.0, "{name}: {d}");
        }
        let contrast = |x: &str, y: &str| {
            let (a, b) = (luminance(x), luminance(y));
            (a.max(b) + 0.05) / (a.min(b) + 0.05)
        };
        assert!(contrast(WHITE_ZONE, status_colour(Some(Status::AciSigne))) > 2.0);
        assert!(contrast(WHITE_ZONE, "#1a9850") < 1.3);
    }
}
