//! [`NmPattern`]: which N:M pattern a matrix follows, and the width of its packed positions.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Bits in one word of packed positions.
const WORD_BITS: usize = 32;

/// At most `kept` non-zeros in every group of `group` consecutive elements along `K`
/// (`kept:group`, e.g. 2:4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NmPattern {
    /// Elements kept per group (N): `1 ≤ kept ≤ group / 2`.
    pub kept: usize,
    /// Elements per group (M): 4 or 8.
    pub group: usize,
}

impl NmPattern {
    /// 2:4, the pattern of sparse tensor cores.
    pub const TWO_FOUR: NmPattern = NmPattern { kept: 2, group: 4 };
    /// 1:4.
    pub const ONE_FOUR: NmPattern = NmPattern { kept: 1, group: 4 };
    /// 2:8.
    pub const TWO_EIGHT: NmPattern = NmPattern { kept: 2, group: 8 };
    /// 4:8.
    pub const FOUR_EIGHT: NmPattern = NmPattern { kept: 4, group: 8 };
    /// The patterns kiln's kernels are written for.
    pub const ALL: [NmPattern; 4] = [
        NmPattern::TWO_FOUR,
        NmPattern::ONE_FOUR,
        NmPattern::TWO_EIGHT,
        NmPattern::FOUR_EIGHT,
    ];

    /// The pattern `kept:group`, checked by [`NmPattern::validate`].
    pub fn new(kept: usize, group: usize) -> Result<Self> {
        let pattern = NmPattern { kept, group };
        pattern.validate()?;
        Ok(pattern)
    }

    /// Checks that `group` is 4 or 8 and `1 ≤ kept ≤ group / 2` (at least half of every group is
    /// zero, which is what makes N:M worth a kernel); otherwise [`Error::InvalidArgument`].
    pub fn validate(self) -> Result<()> {
        let (kept, group) = (self.kept, self.group);
        if (group == 4 || group == 8) && (1..=group / 2).contains(&kept) {
            return Ok(());
        }
        Err(Error::InvalidArgument {
            op: "NmPattern::validate",
            detail: format!(
                "pattern {kept}:{group} needs a group of 4 or 8 and 1 <= kept <= group / 2"
            ),
        })
    }

    /// Bits of one packed position, `log2(group)`: 2 for groups of 4, 3 for groups of 8.
    pub fn index_bits(self) -> usize {
        self.group.trailing_zeros() as usize
    }

    /// Positions packed into one `u32` word, `floor(32 / index_bits)`: 16 or 10.
    pub fn fields_per_word(self) -> usize {
        WORD_BITS / self.index_bits()
    }
}

impl FromStr for NmPattern {
    type Err = Error;

    /// Parses `"2:4"` (spaces around either number are ignored) and validates it.
    fn from_str(text: &str) -> Result<Self> {
        let parse = |number: &str| number.trim().parse::<usize>().ok();
        let numbers = text
            .split_once(':')
            .map(|(kept, group)| (parse(kept), parse(group)));
        match numbers {
            Some((Some(kept), Some(group))) => NmPattern::new(kept, group),
            _ => Err(Error::InvalidArgument {
                op: "NmPattern::from_str",
                detail: format!("'{text}' is not an N:M pattern such as 2:4"),
            }),
        }
    }
}

impl fmt::Display for NmPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kept, self.group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_pattern() {
        for pattern in NmPattern::ALL {
            assert_eq!(pattern.to_string().parse::<NmPattern>().unwrap(), pattern);
            assert!(pattern.validate().is_ok());
        }
        assert_eq!(" 2 : 4 ".parse::<NmPattern>().unwrap(), NmPattern::TWO_FOUR);
        assert_eq!(NmPattern::TWO_FOUR.to_string(), "2:4");
    }

    #[test]
    fn rejects_bad_patterns() {
        for text in [
            "", "2", "2:", "a:4", "2:4:8", "0:4", "3:4", "5:8", "2:6", "8:16", "-1:4",
        ] {
            let parsed = text.parse::<NmPattern>();
            assert!(
                matches!(parsed, Err(Error::InvalidArgument { .. })),
                "'{text}'"
            );
        }
        assert!(NmPattern { kept: 2, group: 6 }.validate().is_err());
    }

    #[test]
    fn field_widths() {
        let widths: Vec<(usize, usize)> = NmPattern::ALL
            .iter()
            .map(|pattern| (pattern.index_bits(), pattern.fields_per_word()))
            .collect();
        assert_eq!(widths, vec![(2, 16), (2, 16), (3, 10), (3, 10)]);
    }
}
