//! Classes of a choropleth: quantiles, equal intervals and natural breaks (Jenks),
//! with mapclassify's conventions so that figures can be checked against it:
//! class `k` holds the values `x` with `bounds[k-1] < x <= bounds[k]`, the first
//! class every value up to `bounds[0]`, and the last bound is the maximum.

use crate::error::ParseError;
use std::fmt;
use std::str::FromStr;

/// How class bounds are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breaks {
    /// Equal numbers of values per class (bounds at the `k/n` percentiles, linear
    /// interpolation as numpy's default; repeated bounds merged).
    Quantiles,
    /// Classes of equal width between the minimum and the maximum.
    EqualInterval,
    /// Natural breaks (Jenks): the classes that minimise the sum of squared
    /// deviations from the class means, computed exactly (Fisher's optimal
    /// partition, as mapclassify's `FisherJenks`).
    Jenks,
}

impl Breaks {
    /// The name used on the command line and in legends.
    pub fn as_str(self) -> &'static str {
        match self {
            Breaks::Quantiles => "quantiles",
            Breaks::EqualInterval => "equal",
            Breaks::Jenks => "jenks",
        }
    }
}

impl fmt::Display for Breaks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Breaks {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.to_ascii_lowercase().as_str() {
            "quantiles" | "quantile" => Ok(Breaks::Quantiles),
            "equal" | "equal-interval" | "equal_interval" => Ok(Breaks::EqualInterval),
            "jenks" | "natural" | "natural-breaks" | "fisher-jenks" => Ok(Breaks::Jenks),
            other => Err(ParseError(format!(
                "{other:?} is not a classification: quantiles, equal or jenks"
            ))),
        }
    }
}

/// The upper bounds of at most `k` classes of the finite `values` (the last is the
/// maximum), and how many values fall in each class. Fewer classes come back when
/// there are fewer distinct values (or repeated quantiles). Empty input: no class.
///
/// # Examples
/// ```
/// use maillage::render::classify::{classify, Breaks};
/// let v = [1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 30.0];
/// let (bounds, counts) = classify(&v, 3, Breaks::Jenks);
/// assert_eq!(bounds, vec![3.0, 12.0, 30.0]);
/// assert_eq!(counts, vec![3, 3, 1]);
/// ```
pub fn classify(values: &[f64], k: usize, breaks: Breaks) -> (Vec<f64>, Vec<usize>) {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() || k == 0 {
        return (Vec::new(), Vec::new());
    }
    v.sort_by(f64::total_cmp);
    let (min, max) = (v[0], v[v.len() - 1]);
    let mut bounds = match breaks {
        Breaks::Quantiles => (1..=k)
            .map(|i| percentile(&v, 100.0 * i as f64 / k as f64))
            .collect(),
        Breaks::EqualInterval => {
            let w = (max - min) / k as f64;
            let mut b: Vec<f64> = (1..k).map(|i| min + w * i as f64).collect();
            b.push(max);
            b
        }
        Breaks::Jenks => fisher_jenks(&v, k),
    };
    bounds.dedup();
    if let Some(last) = bounds.last_mut() {
        *last = max;
    }
    let counts = counts(&v, &bounds);
    (bounds, counts)
}

/// The class of `x` under `bounds` (see the module's conventions); `None` for a
/// value that is not finite or above the last bound.
pub fn class_of(x: f64, bounds: &[f64]) -> Option<usize> {
    if !x.is_finite() {
        return None;
    }
    let k = bounds.partition_point(|&b| b < x);
    (k < bounds.len()).then_some(k)
}

fn counts(sorted: &[f64], bounds: &[f64]) -> Vec<usize> {
    let mut counts = vec![0; bounds.len()];
    for &x in sorted {
        if let Some(k) = class_of(x, bounds) {
            counts[k] += 1;
        }
    }
    counts
}

/// numpy's default percentile (linear interpolation between closest ranks).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let pos = p / 100.0 * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The optimal partition of sorted values into at most `k` classes by least sum
/// of squared deviations; returns each class's largest value.
///
/// Repeated values are merged with weights, then the dynamic programme
/// `D[c][j] = min_i D[c-1][i-1] + SSD(i..=j)` is solved row by row with divide and
/// conquer (the cost satisfies the quadrangle inequality, so the best `i` grows
/// with `j`): O(k·m·log m) for m distinct values instead of Fisher's O(k·m²).
fn fisher_jenks(sorted: &[f64], k: usize) -> Vec<f64> {
    let mut xs: Vec<f64> = Vec::new();
    let mut ws: Vec<f64> = Vec::new();
    for &x in sorted {
        if xs.last() == Some(&x) {
            if let Some(w) = ws.last_mut() {
                *w += 1.0;
            }
        } else {
            xs.push(x);
            ws.push(1.0);
        }
    }
    let m = xs.len();
    let k = k.min(m);
    if k <= 1 {
        return vec![xs[m - 1]];
    }
    // prefix sums of weights, weighted values and squares, centred for accuracy
    let shift = xs[m / 2];
    let (mut sw, mut sx, mut sxx) = (vec![0.0; m + 1], vec![0.0; m + 1], vec![0.0; m + 1]);
    for i in 0..m {
        let d = xs[i] - shift;
        sw[i + 1] = sw[i] + ws[i];
        sx[i + 1] = sx[i] + ws[i] * d;
        sxx[i + 1] = sxx[i] + ws[i] * d * d;
    }
    // sum of squared deviations of xs[i..=j]
    let ssd = |i: usize, j: usize| {
        let w = sw[j + 1] - sw[i];
        let s = sx[j + 1] - sx[i];
        (sxx[j + 1] - sxx[i] - s * s / w).max(0.0)
    };
    let mut prev: Vec<f64> = (0..m).map(|j| ssd(0, j)).collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(k);
    back.push(vec![0; m]);
    for c in 1..k {
        let mut cur = vec![f64::INFINITY; m];
        let mut arg = vec![0usize; m];
        // class c (0-based) ends at j >= c and starts at i in c..=j
        solve(c, m - 1, c, m - 1, &prev, &ssd, &mut cur, &mut arg);
        back.push(arg);
        prev = cur;
    }
    // walk back the starts of each class
    let mut bounds = vec![0.0; k];
    let mut j = m - 1;
    for c in (0..k).rev() {
        bounds[c] = xs[j];
        if c > 0 {
            j = back[c][j] - 1;
        }
    }
    bounds
}

/// Fills `cur[j]` for j in `lo..=hi`, knowing the best start lies in `from..=to`.
#[allow(clippy::too_many_arguments)]
fn solve(
    lo: usize,
    hi: usize,
    from: usize,
    to: usize,
    prev: &[f64],
    ssd: &dyn Fn(usize, usize) -> f64,
    cur: &mut [f64],
    arg: &mut [usize],
) {
    if lo > hi {
        return;
    }
    let mid = (lo + hi) / 2;
    let (mut best, mut at) = (f64::INFINITY, from);
    for i in from..=to.min(mid) {
        let v = prev[i - 1] + ssd(i, mid);
        if v < best {
            best = v;
            at = i;
        }
    }
    cur[mid] = best;
    arg[mid] = at;
    if mid > lo {
        solve(lo, mid - 1, from, at, prev, ssd, cur, arg);
    }
    solve(mid + 1, hi, at, to, prev, ssd, cur, arg);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fisher's exact O(k·n²) programme, on every value: the reference.
    fn brute_force(sorted: &[f64], k: usize) -> f64 {
        let n = sorted.len();
        let ssd = |i: usize, j: usize| {
            let s = &sorted[i..=j];
            let mean = s.iter().sum::<f64>() / s.len() as f64;
            s.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
        };
        let mut d: Vec<f64> = (0..n).map(|j| ssd(0, j)).collect();
        for c in 1..k.min(n) {
            let mut e = vec![f64::INFINITY; n];
            for (j, best) in e.iter_mut().enumerate().skip(c) {
                for i in c..=j {
                    *best = best.min(d[i - 1] + ssd(i, j));
                }
            }
            d = e;
        }
        d[n - 1]
    }

    fn cost(sorted: &[f64], bounds: &[f64]) -> f64 {
        let mut total = 0.0;
        let mut start = 0;
        for &b in bounds {
            let end = sorted.partition_point(|&x| x <= b);
            let s = &sorted[start..end];
            if !s.is_empty() {
                let mean = s.iter().sum::<f64>() / s.len() as f64;
                total += s.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
            }
            start = end;
        }
        total
    }

    #[test]
    fn jenks_reaches_the_optimum_of_fishers_programme() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for round in 0..40 {
            let n = 5 + round % 37;
            let mut v: Vec<f64> = (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // a few repeated values, a long tail
                    ((seed % 1000) as f64 / 10.0).powf(1.5).round()
                })
                .collect();
            v.sort_by(f64::total_cmp);
            for k in 2..=6 {
                let (bounds, counts) = classify(&v, k, Breaks::Jenks);
                assert_eq!(counts.iter().sum::<usize>(), n);
                let got = cost(&v, &bounds);
                let best = brute_force(&v, k);
                assert!(
                    got <= best + 1e-6 * (1.0 + best),
                    "n {n} k {k}: {got} > {best}"
                );
            }
        }
    }

    #[test]
    fn quantiles_and_equal_intervals_follow_mapclassify() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        // numpy: percentile([1..10], [25, 50, 75, 100]) = 3.25, 5.5, 7.75, 10
        let (b, c) = classify(&v, 4, Breaks::Quantiles);
        assert_eq!(b, vec![3.25, 5.5, 7.75, 10.0]);
        assert_eq!(c, vec![3, 2, 2, 3]);
        let (b, c) = classify(&v, 3, Breaks::EqualInterval);
        assert_eq!(b, vec![4.0, 7.0, 10.0]);
        assert_eq!(c, vec![4, 3, 3]);
    }

    #[test]
    fn few_distinct_values_give_fewer_classes() {
        let v = [1.0, 1.0, 1.0, 2.0];
        // numpy: percentile at 20..100 % = 1, 1, 1, 1.4, 2: repeated bounds merge,
        // and an empty class stays (as mapclassify keeps it)
        let (b, c) = classify(&v, 5, Breaks::Quantiles);
        assert_eq!(b.len(), 3);
        assert!((b[1] - 1.4).abs() < 1e-12);
        assert_eq!(c, vec![3, 0, 1]);
        let (b, _) = classify(&v, 5, Breaks::Jenks);
        assert_eq!(b, vec![1.0, 2.0]);
        assert_eq!(classify(&[f64::NAN], 3, Breaks::Jenks).0, Vec::<f64>::new());
        assert_eq!(class_of(0.5, &[1.0, 2.0]), Some(0));
        assert_eq!(class_of(1.0, &[1.0, 2.0]), Some(0));
        assert_eq!(class_of(1.5, &[1.0, 2.0]), Some(1));
        assert_eq!(class_of(f64::NAN, &[1.0, 2.0]), None);
    }
}
