//! The language of the text people read: reasons, flags' labels, terminal
//! summaries. French by default (the planners are French), English on request
//! (`--lang en`). Column names and JSON keys are a stable contract and stay in
//! snake_case English whatever the language.

use std::fmt;
use std::str::FromStr;

/// French or English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    /// Français (the default).
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The French or the English text.
    pub fn pick<T>(self, fr: T, en: T) -> T {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }

    /// A count and its noun, agreed: in French 0 and 1 take the singular
    /// (« 0 commune », « 1 commune », « 2 communes »), in English only 1.
    ///
    /// ```
    /// use maillage::Lang;
    /// assert_eq!(Lang::Fr.count(1, "commune", "communes"), "1 commune");
    /// assert_eq!(Lang::Fr.count(0, "commune", "communes"), "0 commune");
    /// assert_eq!(Lang::En.count(0, "commune", "communes"), "0 communes");
    /// assert_eq!(Lang::Fr.count(12_345, "habitant", "habitants"), "12\u{202F}345 habitants");
    /// ```
    pub fn count(self, n: u64, singular: &str, plural: &str) -> String {
        let noun = match self {
            Lang::Fr if n <= 1 => singular,
            Lang::En if n == 1 => singular,
            _ => plural,
        };
        format!("{} {noun}", self.int(n))
    }

    /// An integer: grouped by a narrow no-break space in French, by commas in
    /// English.
    pub fn int(self, n: u64) -> String {
        let s = n.to_string();
        let sep = self.pick('\u{202F}', ',');
        let mut out = String::with_capacity(s.len() + s.len() / 3 * 3);
        for (k, ch) in s.chars().enumerate() {
            if k > 0 && (s.len() - k).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(ch);
        }
        out
    }

    /// A decimal with `digits` decimals: a comma in French.
    pub fn decimal(self, x: f64, digits: usize) -> String {
        let s = format!("{:.*}", digits, x + 0.0);
        match self {
            Lang::Fr => s.replace('.', ","),
            Lang::En => s,
        }
    }

    /// A date `YYYY-MM-DD` as people read it: « 6 décembre 2026 », or « 6 December
    /// 2026 »; anything else is returned as it is.
    ///
    /// ```
    /// use maillage::Lang;
    /// assert_eq!(Lang::Fr.date("2026-12-06"), "6 décembre 2026");
    /// assert_eq!(Lang::Fr.date("2026-01-01"), "1er janvier 2026");
    /// assert_eq!(Lang::En.date("2026-12-06"), "6 December 2026");
    /// assert_eq!(Lang::Fr.date("décembre"), "décembre");
    /// ```
    pub fn date(self, iso: &str) -> String {
        const FR: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let parts: Vec<&str> = iso.split('-').collect();
        let (Some(y), Some(m), Some(d)) = (
            parts.first().and_then(|y| y.parse::<u32>().ok()),
            parts.get(1).and_then(|m| m.parse::<usize>().ok()),
            parts.get(2).and_then(|d| d.parse::<u32>().ok()),
        ) else {
            return iso.to_owned();
        };
        if parts.len() != 3 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return iso.to_owned();
        }
        match self {
            Lang::Fr if d == 1 => format!("1er {} {y}", FR[m - 1]),
            Lang::Fr => format!("{d} {} {y}", FR[m - 1]),
            Lang::En => format!("{d} {} {y}", EN[m - 1]),
        }
    }

    /// The code on the command line: `fr` or `en`.
    pub fn as_str(self) -> &'static str {
        self.pick("fr", "en")
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lang {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "fr" | "français" | "francais" => Ok(Lang::Fr),
            "en" | "english" => Ok(Lang::En),
            other => Err(crate::Error::Input(format!("language {other:?}: fr or en"))),
        }
    }
}
