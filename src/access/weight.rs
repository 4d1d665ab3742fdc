//! Distance-decay weights, as PySAL `access` defines them (`access.weights`), in
//! the unit of the costs (metres for straight-line distances, minutes for a
//! travel-time matrix).

use crate::error::ParseError;
use std::fmt;
use std::str::FromStr;

/// How much a pair counts as a function of its cost.
#[derive(Debug, Clone, PartialEq)]
pub enum Weight {
    /// 1 for every pair within the maximum cost (the plain 2SFCA catchment).
    Binary,
    /// `exp(−c² / 2σ²)`, 1 at cost 0 (no normalisation, as PySAL).
    Gaussian {
        /// σ, in the unit of the costs.
        sigma: f64,
    },
    /// Steps `(bound, weight)`, bounds ascending and inclusive: the weight of the
    /// first bound at or above the cost, 0 beyond the last.
    Step(Vec<(f64, f64)>),
    /// `(max(c, min) / scale)^alpha` (alpha negative for a decay).
    Gravity {
        /// The cost that weighs 1.
        scale: f64,
        /// The exponent.
        alpha: f64,
        /// Costs under it count as it (0: none); avoids an infinite weight at 0.
        min: f64,
    },
}

impl Weight {
    /// The weight of a pair of cost `c`.
    ///
    /// # Examples
    /// ```
    /// use maillage::access::Weight;
    /// let w: Weight = "step:10000=1,20000=0.68,30000=0.22".parse().unwrap();
    /// assert_eq!(w.at(10_000.0), 1.0);   // bounds inclusive
    /// assert_eq!(w.at(10_000.1), 0.68);
    /// assert_eq!(w.at(30_001.0), 0.0);
    /// let g: Weight = "gaussian:20".parse().unwrap();
    /// assert!((g.at(20.0) - 0.6065306597126334).abs() < 1e-15);
    /// ```
    #[inline]
    pub fn at(&self, c: f64) -> f64 {
        match self {
            Weight::Binary => 1.0,
            Weight::Gaussian { sigma } => (-c * c / (2.0 * sigma * sigma)).exp(),
            Weight::Step(steps) => steps
                .iter()
                .find(|(bound, _)| c <= *bound)
                .map_or(0.0, |(_, w)| *w),
            Weight::Gravity { scale, alpha, min } => (c.max(*min) / scale).powf(*alpha),
        }
    }
}

impl Weight {
    /// Refuses a weight that can be infinite or not a number for some cost ≥ 0:
    /// a gravity decay (negative exponent) with no minimum cost weighs a pair at
    /// cost 0 — every commune with itself — infinitely.
    ///
    /// ```
    /// use maillage::access::Weight;
    /// assert!(Weight::Gravity { scale: 10_000.0, alpha: -1.0, min: 0.0 }.check().is_err());
    /// assert!(Weight::Gravity { scale: 10_000.0, alpha: -1.0, min: 1000.0 }.check().is_ok());
    /// ```
    ///
    /// # Errors
    /// The reason, in words.
    pub fn check(&self) -> Result<(), ParseError> {
        match *self {
            Weight::Gravity { scale, alpha, min } => {
                if !(scale > 0.0 && scale.is_finite() && alpha.is_finite() && min.is_finite()) {
                    return Err(ParseError(
                        "gravity: scale > 0, finite exponent and minimum".into(),
                    ));
                }
                if alpha < 0.0 && min <= 0.0 {
                    return Err(ParseError(format!(
                        "a gravity decay (exponent {alpha}) needs a minimum cost > 0, as in gravity:{scale},{alpha},MIN: a pair at cost 0 (each commune with itself) would weigh infinitely"
                    )));
                }
                if alpha > 0.0 && (min / scale).powf(alpha).is_infinite() {
                    return Err(ParseError("gravity: the weights overflow".into()));
                }
                Ok(())
            }
            Weight::Gaussian { sigma } if !(sigma > 0.0 && sigma.is_finite()) => {
                Err(ParseError("gaussian: sigma must be > 0".into()))
            }
            Weight::Step(ref steps)
                if steps
                    .iter()
                    .any(|&(b, w)| !(b >= 0.0 && w >= 0.0 && b.is_finite() && w.is_finite())) =>
            {
                Err(ParseError(
                    "step: bounds and weights must be finite and ≥ 0".into(),
                ))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Weight::Binary => f.write_str("binary"),
            Weight::Gaussian { sigma } => write!(f, "gaussian:{sigma}"),
            Weight::Step(steps) => {
                let s: Vec<String> = steps.iter().map(|(b, w)| format!("{b}={w}")).collect();
                write!(f, "step:{}", s.join(","))
            }
            Weight::Gravity { scale, alpha, min } if *min > 0.0 => {
                write!(f, "gravity:{scale},{alpha},{min}")
            }
            Weight::Gravity { scale, alpha, .. } => write!(f, "gravity:{scale},{alpha}"),
        }
    }
}

impl FromStr for Weight {
    type Err = ParseError;

    /// `binary`, `gaussian:SIGMA`, `step:D1=W1,D2=W2,…`, `gravity:SCALE,ALPHA[,MIN]`.
    fn from_str(s: &str) -> Result<Weight, ParseError> {
        let (kind, args) = s.split_once(':').unwrap_or((s, ""));
        let number = |t: &str, what: &str| {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("weight {s:?}: {what} {t:?} is not a number"))
        };
        match kind.trim() {
            "binary" | "" => Ok(Weight::Binary),
            "gaussian" => {
                let sigma = number(args, "sigma")?;
                if sigma <= 0.0 {
                    return Err(ParseError(format!("weight {s:?}: sigma must be > 0")));
                }
                Ok(Weight::Gaussian { sigma })
            }
            "step" => {
                let mut steps = Vec::new();
                for part in args.split(',').filter(|p| !p.trim().is_empty()) {
                    let (b, w) = part
                        .split_once('=')
                        .ok_or_else(|| format!("weight {s:?}: step {part:?} is not BOUND=WEIGHT"))?;
                    let (b, w) = (number(b, "bound")?, number(w, "weight")?);
                    if w < 0.0 || b < 0.0 {
                        return Err(ParseError(format!("weight {s:?}: bounds and weights must be ≥ 0")));
                    }
                    steps.push((b, w));
                }
                if steps.is_empty() {
                    return Err(ParseError(format!("weight {s:?}: give steps, e.g. step:10=1,20=0.68,30=0.22")));
                }
                steps.sort_by(|a, b| a.0.total_cmp(&b.0));
                if steps.windows(2).any(|w| w[0].0 == w[1].0) {
                    return Err(ParseError(format!("weight {s:?}: a bound appears twice")));
                }
                Ok(Weight::Step(steps))
            }
            "gravity" => {
                let parts: Vec<&str> = args.split(',').collect();
                let (scale, alpha, min) = match parts.as_slice() {
                    [s1, a] => (number(s1, "scale")?, number(a, "alpha")?, 0.0),
                    [s1, a, m] => (number(s1, "scale")?, number(a, "alpha")?, number(m, "min")?),
                    _ => return Err(ParseError(format!("weight {s:?}: gravity:SCALE,ALPHA[,MIN]"))),
                };
                if scale <= 0.0 {
                    return Err(ParseError(format!("weight {s:?}: scale must be > 0")));
                }
                let w = Weight::Gravity { scale, alpha, min };
                w.check().map_err(|e| format!("weight {s:?}: {e}"))?;
                Ok(w)
            }
            other => Err(ParseError(format!(
                "weight {other:?}: binary, gaussian:SIGMA, step:D1=W1,D2=W2,… or gravity:SCALE,ALPHA"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pysal_examples() {
        // access.weights docstrings
        let f: Weight = "step:20=1,40=0.68,60=0.22".parse().unwrap();
        let got: Vec<f64> = (0..=70).step_by(10).map(|v| f.at(v as f64)).collect();
        assert_eq!(got, vec![1.0, 1.0, 1.0, 0.68, 0.68, 0.22, 0.22, 0.0]);
        let g: Weight = "gaussian:20".parse().unwrap();
        assert_eq!(g.at(0.0), 1.0);
        assert!((g.at(40.0) - 0.1353352832366127).abs() < 1e-16);
        let gr: Weight = "gravity:20,-2,1".parse().unwrap();
        // PySAL's docstring rounds to 2 decimals: (1/20)^-2 is 400 within an ulp
        let v: Vec<f64> = [0.0, 1.0, 2.0, 20.0, 40.0]
            .iter()
            .map(|&x| gr.at(x))
            .collect();
        for (got, want) in v.iter().zip([400.0, 400.0, 100.0, 1.0, 0.25]) {
            assert!((got - want).abs() < 1e-12 * want, "{got} vs {want}");
        }
        assert_eq!(
            "gravity:20,-2,1".parse::<Weight>().unwrap().to_string(),
            "gravity:20,-2,1"
        );
    }

    #[test]
    fn bad_weights_are_refused_with_their_text() {
        for bad in [
            "gaussian:0",
            "gaussian:x",
            "step:",
            "step:10",
            "step:10=-1",
            "step:5=1,5=2",
            "gravity:0,-1",
            "gravity:10000,-1",
            "gravity:10000,-2,0",
            "cubic:3",
        ] {
            let e = bad.parse::<Weight>().unwrap_err();
            assert!(e.0.contains("weight"), "{bad}: {e}");
        }
    }
}
