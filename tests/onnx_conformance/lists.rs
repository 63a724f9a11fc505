//! The committed lists beside this module: `passing_<backend>.txt` (sorted case ids, one a line)
//! and `known_failures.txt` (cases whose ops kiln supports but that fail, each with its reason).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The folder holding the lists.
pub fn lists_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/onnx_conformance")
}

/// The case ids in `passing_<backend>.txt`; none when the file does not exist yet.
pub fn read_passing(backend: &str) -> BTreeSet<String> {
    let path = lists_dir().join(format!("passing_{backend}.txt"));
    match std::fs::read_to_string(&path) {
        Ok(text) => text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_string)
            .collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
        Err(error) => panic!("{}: {error}", path.display()),
    }
}

/// Rewrites `passing_<backend>.txt`.
pub fn write_passing(backend: &str, cases: &BTreeSet<String>) {
    let path = lists_dir().join(format!("passing_{backend}.txt"));
    let text: String = cases.iter().map(|case| format!("{case}\n")).collect();
    std::fs::write(&path, text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
}

/// One line of `known_failures.txt`: `<suite/case> <cpu|gpu|cpu,gpu> <reason>`.
#[derive(Clone, Debug, PartialEq)]
pub struct KnownFailure {
    /// `suite/case`.
    pub case: String,
    /// The backends it fails on.
    pub backends: Vec<String>,
    /// Why, in one line.
    pub reason: String,
}

/// The known failures, and the file's comment lines (kept when it is rewritten).
pub struct KnownFailures {
    comments: Vec<String>,
    /// The entries, in file order.
    pub entries: Vec<KnownFailure>,
}

impl KnownFailures {
    /// Reads `known_failures.txt`; a malformed line panics with its number.
    pub fn read() -> KnownFailures {
        let path = lists_dir().join("known_failures.txt");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut known = KnownFailures {
            comments: Vec::new(),
            entries: Vec::new(),
        };
        for (number, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                known.comments.push(line.to_string());
                continue;
            }
            let entry = parse_line(line).unwrap_or_else(|| {
                panic!(
                    "{}:{}: expected '<suite/case> <cpu|gpu|cpu,gpu> <reason>'",
                    path.display(),
                    number + 1
                )
            });
            known.entries.push(entry);
        }
        known
    }

    /// The reason `case` is known to fail on `backend`, if it is listed.
    pub fn reason(&self, case: &str, backend: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|entry| entry.case == case && entry.backends.iter().any(|b| b == backend))
            .map(|entry| entry.reason.as_str())
    }

    /// Drops `backend` from `case`'s entry (and the entry once no backend is left).
    pub fn remove(&mut self, case: &str, backend: &str) {
        for entry in self.entries.iter_mut().filter(|entry| entry.case == case) {
            entry.backends.retain(|b| b != backend);
        }
        self.entries.retain(|entry| !entry.backends.is_empty());
    }

    /// Rewrites `known_failures.txt`: the comments first, then the entries.
    pub fn write(&self) {
        let path = lists_dir().join("known_failures.txt");
        let mut text: String = self
            .comments
            .iter()
            .map(|line| format!("{line}\n"))
            .collect();
        for entry in &self.entries {
            let backends = entry.backends.join(",");
            text.push_str(&format!("{} {backends} {}\n", entry.case, entry.reason));
        }
        std::fs::write(&path, text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    }
}

fn parse_line(line: &str) -> Option<KnownFailure> {
    let mut words = line.trim().splitn(3, char::is_whitespace);
    let case = words.next()?.to_string();
    let backends: Vec<String> = words.next()?.split(',').map(str::to_string).collect();
    let reason = words.next()?.trim().to_string();
    let valid = case.contains('/')
        && !reason.is_empty()
        && backends.iter().all(|b| b == "cpu" || b == "gpu");
    valid.then_some(KnownFailure {
        case,
        backends,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_failure_lines_parse() {
        let entry = parse_line("node/test_x cpu,gpu rounds half away from zero").unwrap();
        assert_eq!(entry.case, "node/test_x");
        assert_eq!(entry.backends, ["cpu", "gpu"]);
        assert_eq!(entry.reason, "rounds half away from zero");
        assert!(parse_line("node/test_x tpu reason").is_none());
        assert!(parse_line("node/test_x gpu").is_none());
        assert!(parse_line("test_x gpu reason").is_none());
    }

    #[test]
    fn committed_lists_are_sorted_and_known_failures_parse() {
        for backend in ["cpu", "gpu"] {
            let path = lists_dir().join(format!("passing_{backend}.txt"));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let mut sorted = lines.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(
                lines,
                sorted,
                "{} must be sorted, without repeats",
                path.display()
            );
        }
        KnownFailures::read();
    }
}
