//! Fresh value and node names for what the importer and the exporter add (synthesised
//! initializers, intermediate values): `base`, or `base_1`, `base_2`, ... when taken. The next
//! suffix per base is remembered, so a file full of `x_1`, `x_2`, ... costs linear time, not
//! quadratic.

use std::collections::{HashMap, HashSet};

/// Names in use, and the next suffix to try per base.
pub(crate) struct NameSet {
    taken: HashSet<String>,
    next_suffix: HashMap<String, usize>,
}

impl NameSet {
    /// A set holding `taken`.
    pub(crate) fn new(taken: HashSet<String>) -> NameSet {
        NameSet {
            taken,
            next_suffix: HashMap::new(),
        }
    }

    /// A name starting with `base` that is not yet taken; it is taken from now on.
    pub(crate) fn fresh(&mut self, base: &str) -> String {
        let next = self.next_suffix.entry(base.to_string()).or_insert(0);
        loop {
            let name = match *next {
                0 => base.to_string(),
                suffix => format!("{base}_{suffix}"),
            };
            *next += 1;
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_names_skip_taken_ones_and_never_repeat() {
        let mut names = NameSet::new(HashSet::from(["a".to_string(), "a_1".to_string()]));
        assert_eq!(names.fresh("a"), "a_2");
        assert_eq!(names.fresh("a"), "a_3");
        assert_eq!(names.fresh("b"), "b");
        assert_eq!(names.fresh("b"), "b_1");
    }
}
