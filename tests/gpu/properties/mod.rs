//! Property tests: random cases per kernel family (shapes that are not tile multiples, size-1
//! dims, attributes, special values), each GPU result compared with its CPU reference under the
//! SAME derived tolerances the fixed-case tests use.
//!
//! `KILN_PROPTEST_CASES` sets the cases per property (default 512: the whole module runs in about
//! 8 s on lavapipe with two idle cores); the RNG seed is fixed, so a run is reproducible.
//! A failure panics with proptest's shrunk minimal case and the comparison's worst element.
//! Run: `KILN_PROPTEST_CASES=50 cargo test --test gpu properties`.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

use kiln::check::Comparison;

mod conv;
mod elementwise;
mod gather;
mod layout;
mod matmul;
mod pooling;
mod quantize;
mod reduce;
mod resize;
mod softmax;

/// Cases per property when `KILN_PROPTEST_CASES` is unset.
const DEFAULT_CASES: u32 = 512;

/// The fixed seed of every property's RNG (ChaCha), so CI replays the same cases.
const SEED: [u8; 32] = *b"kiln property tests, fixed seed.";

/// Values every f32 property mixes into its random data.
pub const SPECIALS: [f32; 9] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1.0e-30,
];

fn case_count() -> u32 {
    std::env::var("KILN_PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// Runs `property` on `case_count()` cases drawn from `strategy` with the fixed seed; on failure
/// panics with `name`, the reason and the minimal (shrunk) failing case.
pub fn check<S: Strategy>(
    name: &str,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let config_cases = case_count();
    let config = Config {
        cases: config_cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &SEED);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let runs = AtomicUsize::new(0);
    let counted = |case| {
        runs.fetch_add(1, Ordering::Relaxed);
        property(case)
    };
    if let Err(error) = runner.run(&strategy, counted) {
        panic!("property {name} failed: {error}");
    }
    let runs = runs.into_inner();
    eprintln!("property {name}: {runs} cases passed");
    assert!(
        runs >= config_cases as usize,
        "property {name} ran only {runs} cases"
    );
}

/// A failed case unless `comparison` passed.
pub fn passed(comparison: Comparison) -> Result<(), TestCaseError> {
    if comparison.passed() {
        Ok(())
    } else {
        Err(TestCaseError::fail(comparison.to_string()))
    }
}

/// A failed case from a kernel or reference error.
pub fn ok<T>(label: &str, result: kiln::Result<T>) -> Result<T, TestCaseError> {
    result.map_err(|error| TestCaseError::fail(format!("{label}: {error}")))
}

/// `count` f32 values: mostly uniform in ±`range`, one in eight a special value.
pub fn values(count: usize, range: f32) -> impl Strategy<Value = Vec<f32>> {
    let value = prop_oneof![
        7 => -range..range,
        1 => proptest::sample::select(SPECIALS.to_vec()),
    ];
    proptest::collection::vec(value, count)
}

/// A dimension: 1 often, otherwise up to `max` (mostly not a multiple of anything).
pub fn dim(max: usize) -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(1usize), 3 => 1..=max]
}
