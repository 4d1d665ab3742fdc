//! An exact check of the proposals for chevauchements: on every small group of
//! overlap communes whose decisions interact (they share a claimant), every
//! assignment of each commune to one of its claimants is tried, and the best
//! one under the balanced ranking's criteria, summed over the group, is compared
//! with what [`Proposal::compute`] chose one commune at a time.
//!
//! The group's objective, smaller is better, compared in this order: claimants
//! whose ACI class changes; minus the communes of each commune's EPCI that the
//! CPTS it goes to holds; communes given to a CPTS holding no other commune of their
//! département; minus the border (metres) each commune shares with the CPTS it
//! goes to; the largest claimant population. Assignments that take a claimant's
//! last commune are not allowed (the proposal never dissolves a CPTS), nor those
//! that leave a claimant in more parts than it had, unless every assignment
//! does. Groups with a chevauchement the proposal leaves unresolved (the last
//! commune of two CPTS) are not checked: there is nothing to choose.

use std::collections::{BTreeMap, BTreeSet};

use super::{Borders, Proposal, Target};
use crate::analysis::Analysis;
use crate::coverage::size_class;

/// The check of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupCheck {
    /// The overlap communes of the group (positions).
    pub communes: Vec<u32>,
    /// Assignments tried.
    pub tried: u64,
    /// The objective of the proposal's choice.
    pub proposed: [f64; 5],
    /// The best objective found.
    pub best: [f64; 5],
}

impl GroupCheck {
    /// True when the proposal reaches the optimum (borders within a millimetre).
    pub fn optimal(&self) -> bool {
        let mut p = self.proposed;
        let mut b = self.best;
        p[3] = (p[3] * 1000.0).round();
        b[3] = (b[3] * 1000.0).round();
        lex_less_eq(&p, &b)
    }
}

fn lex_less_eq(a: &[f64; 5], b: &[f64; 5]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if x < y {
            return true;
        }
        if x > y {
            return false;
        }
    }
    true
}

/// Checks every group of at most `max_group` overlap communes (and at most
/// 65,536 assignments) against the proposal `p` made for `a`.
pub fn check_overlaps(a: &Analysis, p: &Proposal, max_group: usize) -> Vec<GroupCheck> {
    let overlaps: Vec<u32> = (0..a.communes.len() as u32)
        .filter(|&i| a.coverage.claimants[i as usize].len() > 1)
        .collect();
    // groups: overlap communes linked when they share a claimant
    let mut group_of: BTreeMap<u32, usize> = BTreeMap::new();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut by_claimant: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for &i in &overlaps {
        for &k in &a.coverage.claimants[i as usize] {
            by_claimant.entry(k).or_default().push(i);
        }
    }
    for &start in &overlaps {
        if group_of.contains_key(&start) {
            continue;
        }
        let g = groups.len();
        let mut stack = vec![start];
        let mut members = Vec::new();
        group_of.insert(start, g);
        while let Some(i) = stack.pop() {
            members.push(i);
            for k in &a.coverage.claimants[i as usize] {
                for &j in &by_claimant[k] {
                    if let std::collections::btree_map::Entry::Vacant(e) = group_of.entry(j) {
                        e.insert(g);
                        stack.push(j);
                    }
                }
            }
        }
        members.sort_unstable();
        groups.push(members);
    }
    let chosen: BTreeMap<u32, u32> = p
        .rows
        .iter()
        .filter_map(|r| match r.proposed {
            Target::Cpts(k) => Some((r.commune, k)),
            _ => None,
        })
        .collect();
    let table = crate::epci::epci();
    let epci: Vec<Option<u32>> = (0..a.communes.len() as u32)
        .map(|i| table.index_of(&a.communes.get(i).code))
        .collect();
    let mut borders = Borders::new(a);
    let mut out = Vec::new();
    for group in groups {
        let options: Vec<&Vec<u32>> = group
            .iter()
            .map(|&i| &a.coverage.claimants[i as usize])
            .collect();
        let total: u64 = options.iter().map(|o| o.len() as u64).product();
        if group.len() > max_group
            || total > 65_536
            || group.iter().any(|i| !chosen.contains_key(i))
        {
            continue;
        }
        let claimants: BTreeSet<u32> = options.iter().flat_map(|o| o.iter().copied()).collect();
        // (objective, cuts a claimant, claimants emptied)
        let mut eval = |assign: &[u32]| -> ([f64; 5], bool, usize) {
            let mut members: BTreeMap<u32, BTreeSet<u32>> = claimants
                .iter()
                .map(|&k| {
                    (
                        k,
                        a.coverage.territories[k as usize]
                            .members
                            .iter()
                            .copied()
                            .collect(),
                    )
                })
                .collect();
            for (&i, &k) in group.iter().zip(assign) {
                for o in &a.coverage.claimants[i as usize] {
                    if *o != k {
                        if let Some(m) = members.get_mut(o) {
                            m.remove(&i);
                        }
                    }
                }
            }
            let mut class = 0.0;
            let mut cuts = false;
            let mut emptied = 0;
            let mut largest = 0u64;
            for (&k, m) in &members {
                let t = &a.coverage.territories[k as usize];
                let pop: u64 = m.iter().map(|&x| a.communes.population[x as usize]).sum();
                largest = largest.max(pop);
                if size_class(pop) != t.size_class {
                    class += 1.0;
                }
                let list: Vec<u32> = m.iter().copied().collect();
                let parts = if list.is_empty() {
                    0
                } else {
                    a.adjacency.components(&list).len()
                };
                if parts > t.parts.len() {
                    cuts = true;
                }
                if list.is_empty() && !t.members.is_empty() {
                    emptied += 1;
                }
            }
            let (mut splits, mut crossings, mut border) = (0.0, 0.0, 0.0);
            for (&i, &k) in group.iter().zip(assign) {
                let m = &members[&k];
                if let Some(e) = epci[i as usize] {
                    // as the ranking counts them: communes of its EPCI the CPTS holds
                    splits -= m
                        .iter()
                        .filter(|&&x| x != i && epci[x as usize] == Some(e))
                        .count() as f64;
                }
                let dep = a.communes.departement(i);
                if !m
                    .iter()
                    .any(|&x| x != i && a.communes.departement(x) == dep)
                {
                    crossings += 1.0;
                }
                border += borders
                    .of(i)
                    .iter()
                    .filter(|(j, _)| m.contains(j) && *j != i)
                    .map(|(_, l)| l)
                    .sum::<f64>();
            }
            (
                [class, splits, crossings, -border, largest as f64],
                cuts,
                emptied,
            )
        };
        let proposed_assign: Vec<u32> = group.iter().map(|i| chosen[i]).collect();
        let (proposed, _, _) = eval(&proposed_assign);
        let mut best: Option<([f64; 5], bool, usize)> = None;
        let mut assign = vec![0u32; group.len()];
        for mut code in 0..total {
            for (x, o) in options.iter().enumerate() {
                assign[x] = o[(code % o.len() as u64) as usize];
                code /= o.len() as u64;
            }
            let (key, cuts, emptied) = eval(&assign);
            let better = match &best {
                None => true,
                // fewer claimants emptied first, then one that cuts no claimant
                Some((b, bcuts, bempty)) => {
                    emptied < *bempty
                        || (emptied == *bempty
                            && ((*bcuts && !cuts) || (*bcuts == cuts && !lex_less_eq(b, &key))))
                }
            };
            if better {
                best = Some((key, cuts, emptied));
            }
        }
        let best = best.map_or(proposed, |b| b.0);
        out.push(GroupCheck {
            communes: group,
            tried: total,
            proposed,
            best,
        });
    }
    out
}
