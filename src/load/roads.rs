//! A drivable road network from an OpenStreetMap extract (`.osm.pbf`, as
//! Geofabrik ships them), read with the `osmpbf` crate: the ways a car may use,
//! cut into directed edges between consecutive nodes, each weighted by its
//! travel time at the free-flow speed of its road class.
//!
//! The rules, all of them (an independent oracle, `fixtures/roads/oracle.py`,
//! applies the same ones with pyosmium and networkx):
//!
//! - a way is a road when its `highway` is one of [`SPEEDS_KMH`]'s classes and
//!   neither `access`, `motor_vehicle` nor `motorcar` is `no` or `private`;
//! - its speed is its class's (the car defaults of OSRM's profile, rounded);
//!   `maxspeed` is not read — a free-flow assumption, stated in the summary;
//! - direction: `oneway` = `yes`/`true`/`1` forward only, `-1`/`reverse` backward
//!   only, `no`/`false`/`0` both ways; with no `oneway` tag, motorways, their
//!   links and roundabouts (`junction=roundabout`) are one-way forward, the rest
//!   two-way;
//! - each segment between consecutive nodes is an edge of length the geodesic
//!   distance between them (WGS84, Karney: geo's `Geodesic`), its time
//!   `length / speed`; nodes are located at the file's 1e-7° fixed point;
//! - a way referring to a node the extract lacks (cut at its border) keeps its
//!   segments whose two ends are present.

use std::path::{Path, PathBuf};

use geo::{Distance, Geodesic, Point};

use crate::error::{Error, Result};

/// Free-flow speed of each drivable `highway` class, km/h.
pub const SPEEDS_KMH: &[(&str, f64)] = &[
    ("motorway", 90.0),
    ("motorway_link", 45.0),
    ("trunk", 85.0),
    ("trunk_link", 40.0),
    ("primary", 65.0),
    ("primary_link", 30.0),
    ("secondary", 55.0),
    ("secondary_link", 25.0),
    ("tertiary", 40.0),
    ("tertiary_link", 20.0),
    ("unclassified", 25.0),
    ("residential", 25.0),
    ("living_street", 10.0),
    ("service", 15.0),
];

/// One directed edge of a [`RoadNetwork`]: node positions and minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoadEdge {
    /// Where it starts (position in [`RoadNetwork::nodes`]).
    pub from: u32,
    /// Where it ends.
    pub to: u32,
    /// Travel time, minutes.
    pub minutes: f64,
}

/// The drivable roads of an extract as a directed graph.
#[derive(Debug, Clone)]
pub struct RoadNetwork {
    /// The file.
    pub source: PathBuf,
    /// Each node's longitude and latitude, in ascending OSM id order.
    pub nodes: Vec<[f64; 2]>,
    /// Each node's OSM id.
    pub osm_ids: Vec<i64>,
    /// The edges, sorted by (from, to, minutes).
    pub edges: Vec<RoadEdge>,
    /// Ways kept as roads.
    pub ways: usize,
    /// Node references of those ways that the extract lacks.
    pub missing_nodes: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Both,
    Forward,
    Backward,
}

/// A way kept as a road: its id, nodes, speed and direction.
struct Road {
    id: i64,
    refs: Vec<i64>,
    kmh: f64,
    direction: Direction,
}

/// The speed and direction of a way from its tags, or `None` when it is not a
/// road a car may use (see the module's rules).
fn classify<'a>(tags: impl Iterator<Item = (&'a str, &'a str)>) -> Option<(f64, Direction)> {
    let (mut highway, mut oneway, mut roundabout, mut closed) = (None, None, false, false);
    for (k, v) in tags {
        match k {
            "highway" => highway = Some(v),
            "oneway" => oneway = Some(v),
            "junction" => roundabout = v == "roundabout",
            "access" | "motor_vehicle" | "motorcar" => {
                closed |= v == "no" || v == "private";
            }
            _ => {}
        }
    }
    let highway = highway?;
    let kmh = SPEEDS_KMH.iter().find(|(h, _)| *h == highway)?.1;
    if closed {
        return None;
    }
    let implied = roundabout || highway == "motorway" || highway == "motorway_link";
    let direction = match oneway {
        Some("yes" | "true" | "1") => Direction::Forward,
        Some("-1" | "reverse") => Direction::Backward,
        Some("no" | "false" | "0") => Direction::Both,
        _ if implied => Direction::Forward,
        _ => Direction::Both,
    };
    Some((kmh, direction))
}

/// Reads the drivable roads of an OpenStreetMap extract (two passes over the
/// file: the ways, then the nodes they use), in parallel.
///
/// # Errors
/// [`Error::File`] naming the file when it cannot be read or is not a valid
/// PBF (the reader's panics on damaged blobs are caught and said as such), or
/// when it holds no drivable road.
///
/// # Performance
/// The file is streamed, never held whole; memory holds the roads' node ids
/// and the graph (for France, about 6 M road nodes: a few hundred MB).
pub fn load_roads(path: &Path) -> Result<RoadNetwork> {
    let fail = |message: String| Error::File {
        path: path.to_owned(),
        message,
    };
    let reader =
        || osmpbf::ElementReader::from_path(path).map_err(|e| fail(format!("cannot be read: {e}")));
    // pass 1: the roads
    let first = reader()?;
    let mut roads: Vec<Road> = guarded(path, move || {
        first.par_map_reduce(
            |element| match element {
                osmpbf::Element::Way(w) => classify(w.tags())
                    .map(|(kmh, direction)| Road {
                        id: w.id(),
                        refs: w.refs().collect(),
                        kmh,
                        direction,
                    })
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            },
            Vec::new,
            |mut a, mut b| {
                a.append(&mut b);
                a
            },
        )
    })?;
    // blocks are reduced in any order: sort, so that the graph does not depend on it
    roads.sort_unstable_by_key(|r| r.id);
    if roads.is_empty() {
        return Err(fail(
            "holds no drivable road (no way with a highway tag of a road class): is it an OpenStreetMap extract of the area?".into(),
        ));
    }
    let mut needed: Vec<i64> = roads.iter().flat_map(|r| r.refs.iter().copied()).collect();
    needed.sort_unstable();
    needed.dedup();
    // pass 2: where those nodes are (1e-7° fixed point, as the file stores them)
    let second = reader()?;
    let keep = |id: i64| needed.binary_search(&id).is_ok();
    let mut located: Vec<(i64, i32, i32)> = guarded(path, move || {
        second.par_map_reduce(
            |element| match element {
                osmpbf::Element::DenseNode(n) if keep(n.id()) => {
                    vec![(n.id(), n.decimicro_lon(), n.decimicro_lat())]
                }
                osmpbf::Element::Node(n) if keep(n.id()) => {
                    vec![(n.id(), n.decimicro_lon(), n.decimicro_lat())]
                }
                _ => Vec::new(),
            },
            Vec::new,
            |mut a, mut b| {
                a.append(&mut b);
                a
            },
        )
    })?;
    located.sort_unstable();
    located.dedup_by_key(|n| n.0);
    // a damaged node outside the globe is as good as missing
    located.retain(|&(_, lon, lat)| lon.abs() <= 1_800_000_000 && lat.abs() <= 900_000_000);
    let osm_ids: Vec<i64> = located.iter().map(|n| n.0).collect();
    let nodes: Vec<[f64; 2]> = located
        .iter()
        .map(|&(_, lon, lat)| [f64::from(lon) / 1e7, f64::from(lat) / 1e7])
        .collect();
    let position = |id: i64| osm_ids.binary_search(&id).ok().map(|k| k as u32);
    let mut edges = Vec::new();
    let mut missing_nodes = 0usize;
    for road in &roads {
        let at: Vec<Option<u32>> = road.refs.iter().map(|&id| position(id)).collect();
        missing_nodes += at.iter().filter(|p| p.is_none()).count();
        let metres_per_minute = road.kmh * 1000.0 / 60.0;
        for w in at.windows(2) {
            let (Some(a), Some(b)) = (w[0], w[1]) else {
                continue;
            };
            if a == b {
                continue;
            }
            let (pa, pb) = (nodes[a as usize], nodes[b as usize]);
            let metres = Geodesic.distance(Point::new(pa[0], pa[1]), Point::new(pb[0], pb[1]));
            let minutes = metres / metres_per_minute;
            if road.direction != Direction::Backward {
                edges.push(RoadEdge {
                    from: a,
                    to: b,
                    minutes,
                });
            }
            if road.direction != Direction::Forward {
                edges.push(RoadEdge {
                    from: b,
                    to: a,
                    minutes,
                });
            }
        }
    }
    edges.sort_unstable_by(|x, y| {
        (x.from, x.to)
            .cmp(&(y.from, y.to))
            .then(x.minutes.total_cmp(&y.minutes))
    });
    Ok(RoadNetwork {
        source: path.to_owned(),
        nodes,
        osm_ids,
        edges,
        ways: roads.len(),
        missing_nodes,
    })
}

/// Runs one pass of the reader; its errors and its panics on damaged blocks are
/// said in words, naming the file.
fn guarded<T>(path: &Path, pass: impl FnOnce() -> osmpbf::Result<T>) -> Result<T> {
    let fail = |message: String| Error::File {
        path: path.to_owned(),
        message,
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(pass)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(fail(format!("not a readable OpenStreetMap PBF file: {e}"))),
        Err(_) => Err(fail(
            "a damaged OpenStreetMap PBF file: the reader stopped inside a block".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags<'a>(t: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = (&'a str, &'a str)> {
        t.iter().copied()
    }

    #[test]
    fn roads_are_classified_by_their_tags() {
        let c = |t: &[(&str, &str)]| classify(tags(t));
        assert!(c(&[("highway", "footway")]).is_none());
        assert!(c(&[("building", "yes")]).is_none());
        assert!(c(&[("highway", "residential"), ("access", "private")]).is_none());
        assert!(c(&[("highway", "service"), ("motor_vehicle", "no")]).is_none());
        let both = c(&[("highway", "residential")]).unwrap();
        assert!(both.0 == 25.0 && both.1 == Direction::Both);
        // motorways and roundabouts are one-way unless tagged otherwise
        assert!(c(&[("highway", "motorway")]).unwrap().1 == Direction::Forward);
        assert!(c(&[("highway", "motorway"), ("oneway", "no")]).unwrap().1 == Direction::Both);
        assert!(
            c(&[("highway", "tertiary"), ("junction", "roundabout")])
                .unwrap()
                .1
                == Direction::Forward
        );
        assert!(c(&[("highway", "primary"), ("oneway", "-1")]).unwrap().1 == Direction::Backward);
        assert!(c(&[("oneway", "yes"), ("highway", "primary")]).unwrap().1 == Direction::Forward);
    }
}
