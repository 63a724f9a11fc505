//! What the conformance run prints: the suite × backend table, the most common reasons a case is
//! unsupported, and the slowest cases. Written straight to stderr so that it shows even when the
//! test harness captures output.

use std::collections::BTreeMap;

use crate::case::{Case, Outcome};
use crate::CaseResult;

/// The backends a result holds outcomes for, by name.
pub fn outcomes(result: &CaseResult) -> Vec<(&'static str, &Outcome)> {
    let mut outcomes = vec![("cpu", &result.cpu)];
    if let Some(gpu) = &result.gpu {
        outcomes.push(("gpu", gpu));
    }
    outcomes
}

#[derive(Default)]
struct Counts {
    passed: usize,
    failed: usize,
    unsupported: usize,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::Unsupported { .. } => self.unsupported += 1,
        }
    }
}

/// The table of passed / failed / unsupported per suite and backend, then the totals.
pub fn print_summary(cases: &[Case], results: &[CaseResult]) {
    let mut by_suite: BTreeMap<(String, &str), Counts> = BTreeMap::new();
    let mut totals: BTreeMap<&str, Counts> = BTreeMap::new();
    for (case, result) in cases.iter().zip(results) {
        for (backend, outcome) in outcomes(result) {
            by_suite
                .entry((case.suite.clone(), backend))
                .or_default()
                .add(outcome);
            totals.entry(backend).or_default().add(outcome);
        }
    }
    say!(
        "{:<20} {:<7} {:>7} {:>7} {:>12} {:>7}",
        "suite",
        "backend",
        "passed",
        "failed",
        "unsupported",
        "total"
    );
    let rows = by_suite
        .iter()
        .map(|((suite, backend), counts)| (suite.as_str(), *backend, counts))
        .chain(
            totals
                .iter()
                .map(|(backend, counts)| ("all", *backend, counts)),
        );
    for (suite, backend, counts) in rows {
        let total = counts.passed + counts.failed + counts.unsupported;
        say!(
            "{suite:<20} {backend:<7} {:>7} {:>7} {:>12} {total:>7}",
            counts.passed,
            counts.failed,
            counts.unsupported
        );
    }
}

/// The most common reasons cases are unsupported on each backend: each op kiln lacks counts once
/// per case that uses it; a case whose ops are all supported counts under its error's reason.
pub fn print_unsupported_reasons(cases: &[Case], results: &[CaseResult], top: usize) {
    let mut reasons: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for (case, result) in cases.iter().zip(results) {
        for (backend, outcome) in outcomes(result) {
            let Outcome::Unsupported { detail, .. } = outcome else {
                continue;
            };
            let counts = reasons.entry(backend).or_default();
            let missing = case.unsupported_ops();
            if missing.is_empty() {
                let reason: String = detail.chars().take(110).collect();
                *counts.entry(reason).or_default() += 1;
            }
            for op in missing {
                let op = op.strip_prefix(':').unwrap_or(op);
                *counts.entry(format!("op {op}")).or_default() += 1;
            }
        }
    }
    for (backend, counts) in reasons {
        let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        say!("top unsupported reasons on {backend} (cases):");
        for (reason, count) in ranked.into_iter().take(top) {
            say!("  {count:>5}  {reason}");
        }
    }
}

/// The `count` cases that took longest (load and both backends).
pub fn print_slowest(cases: &[Case], results: &[CaseResult], count: usize) {
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.sort_by(|&a, &b| results[b].seconds.total_cmp(&results[a].seconds));
    let slowest: Vec<String> = order
        .iter()
        .take(count)
        .map(|&index| format!("{} {:.2} s", cases[index].id, results[index].seconds))
        .collect();
    say!("slowest cases: {}", slowest.join(", "));
}

/// Every outcome, one line each, to the file `KILN_CONFORMANCE_REPORT` names.
pub fn write_full_report(path: &str, cases: &[Case], results: &[CaseResult]) {
    let mut text = String::new();
    for (case, result) in cases.iter().zip(results) {
        for (backend, outcome) in outcomes(result) {
            let line = match outcome {
                Outcome::Passed => "passed".to_string(),
                Outcome::Failed(why) => format!("FAILED {why}"),
                Outcome::Unsupported { message, .. } => format!("unsupported {message}"),
            };
            let line = line.replace('\n', " ");
            text.push_str(&format!("{backend} {} {line}\n", case.id));
        }
    }
    std::fs::write(path, text).unwrap_or_else(|error| panic!("{path}: {error}"));
    say!("full report written to {path}");
}
