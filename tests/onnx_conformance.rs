//! The ONNX backend conformance suites (the node suite generated from the pinned `onnx` package,
//! and its shipped pytorch-converted, pytorch-operator and simple suites), run on the CPU reference
//! backend and on the GPU. Build the suites first with `scripts/build_onnx_conformance.sh`.
//!
//! The test fails when a case listed in `tests/onnx_conformance/passing_<backend>.txt` no longer
//! passes, and when a case whose ops are all in [`kiln::import::onnx::SUPPORTED_OPS`] fails
//! without an entry in `known_failures.txt`. `KILN_CONFORMANCE_UPDATE=1` rewrites the lists.
//!
//! Environment: `KILN_ONNX_CONFORMANCE` (the suites' folder, default `cache/onnx-conformance`),
//! `KILN_SKIP_CONFORMANCE=1` (skip on purpose), `KILN_SKIP_GPU_TESTS=1` (CPU only, on purpose),
//! `KILN_CONFORMANCE_FILTER` (run only case ids containing it), `KILN_CONFORMANCE_THREADS`,
//! `KILN_CONFORMANCE_REPORT` (write every outcome to this file).

/// Prints a line to stderr directly, so that the summary shows even when the test harness
/// captures output.
macro_rules! say {
    ($($arg:tt)*) => {{
        let line = format!($($arg)*);
        let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
    }};
}

#[path = "onnx_conformance/case.rs"]
mod case;
#[path = "onnx_conformance/compare.rs"]
mod compare;
#[path = "onnx_conformance/lists.rs"]
mod lists;
#[path = "onnx_conformance/report.rs"]
mod report;

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use case::{Case, Outcome};
use kiln::device::Gpu;
use lists::KnownFailures;

/// How one case went on each backend.
pub struct CaseResult {
    /// On the CPU reference backend.
    pub cpu: Outcome,
    /// On the GPU; `None` when GPU tests are skipped on purpose.
    pub gpu: Option<Outcome>,
    /// Wall time of the load and both runs.
    pub seconds: f64,
}

#[test]
fn onnx_conformance_suites() {
    let Some(root) = suites_root() else {
        return;
    };
    let filter = std::env::var("KILN_CONFORMANCE_FILTER").unwrap_or_default();
    let cases: Vec<Case> = case::discover(&root)
        .unwrap_or_else(|error| panic!("reading {}: {error}", root.display()))
        .into_iter()
        .filter(|case| case.id.contains(&filter))
        .collect();
    let gpu = open_gpu();
    let version = std::fs::read_to_string(root.join("VERSION")).unwrap_or_default();
    say!(
        "ONNX conformance: {} cases from {} ({}), GPU: {}",
        cases.len(),
        root.display(),
        version.trim(),
        gpu.as_ref().map_or("skipped".into(), |gpu| format!(
            "{} ({:?})",
            gpu.info().name,
            gpu.info().backend
        ))
    );
    let started = Instant::now();
    let results = run_all(&cases, gpu.as_ref());
    say!("ran in {:.0} s", started.elapsed().as_secs_f64());
    report::print_summary(&cases, &results);
    report::print_unsupported_reasons(&cases, &results, 15);
    report::print_slowest(&cases, &results, 5);
    if let Ok(path) = std::env::var("KILN_CONFORMANCE_REPORT") {
        report::write_full_report(&path, &cases, &results);
    }
    let problems = check_lists(&cases, &results, filter.is_empty());
    assert!(
        problems.is_empty(),
        "{} conformance problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The suites' folder, or `None` when the run is skipped on purpose; a missing folder fails.
fn suites_root() -> Option<PathBuf> {
    if std::env::var("KILN_SKIP_CONFORMANCE").as_deref() == Ok("1") {
        say!("skipping the ONNX conformance suites (KILN_SKIP_CONFORMANCE=1)");
        return None;
    }
    let root = std::env::var_os("KILN_ONNX_CONFORMANCE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cache/onnx-conformance"),
        PathBuf::from,
    );
    assert!(
        root.join("VERSION").is_file(),
        "no ONNX conformance suites in {}: build them with scripts/build_onnx_conformance.sh \
         (or set KILN_SKIP_CONFORMANCE=1 to skip on purpose)",
        root.display()
    );
    let built = std::fs::read_to_string(root.join("VERSION")).unwrap_or_default();
    let pinned = pinned_onnx_version();
    assert_eq!(
        built.trim(),
        format!("onnx {pinned}"),
        "the suites in {} come from another onnx than the {pinned} that \
         scripts/build_onnx_conformance.sh pins: run the script again",
        root.display()
    );
    Some(root)
}

/// The `ONNX_VERSION=` the build script pins, so that the lists always match the suites.
fn pinned_onnx_version() -> String {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/build_onnx_conformance.sh");
    let text = std::fs::read_to_string(&script)
        .unwrap_or_else(|error| panic!("{}: {error}", script.display()));
    text.lines()
        .find_map(|line| line.strip_prefix("ONNX_VERSION="))
        .unwrap_or_else(|| panic!("{} sets no ONNX_VERSION=", script.display()))
        .trim()
        .to_string()
}

/// The GPU, opened once. Like every GPU test it fails without an adapter unless
/// `KILN_SKIP_GPU_TESTS=1` says on purpose that this machine has none.
fn open_gpu() -> Option<Gpu> {
    match Gpu::from_env() {
        Ok(gpu) => Some(gpu),
        Err(error) if std::env::var("KILN_SKIP_GPU_TESTS").as_deref() == Ok("1") => {
            say!("GPU skipped (KILN_SKIP_GPU_TESTS=1): {error}");
            None
        }
        Err(error) => panic!("{error}\n(set KILN_SKIP_GPU_TESTS=1 to skip GPU tests on purpose)"),
    }
}

/// Runs every case on worker threads. CPU runs overlap; GPU runs take turns, so that a device
/// error is reported to the case that caused it.
fn run_all(cases: &[Case], gpu: Option<&Gpu>) -> Vec<CaseResult> {
    let threads = std::env::var("KILN_CONFORMANCE_THREADS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let next = AtomicUsize::new(0);
    let gpu_turn = Mutex::new(());
    let mut results: Vec<Option<CaseResult>> = (0..cases.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(case) = cases.get(index) else {
                            return done;
                        };
                        if index > 0 && index.is_multiple_of(250) {
                            say!("  {index} / {} cases", cases.len());
                        }
                        done.push((index, run_case(case, gpu, &gpu_turn)));
                    }
                })
            })
            .collect();
        for worker in workers {
            for (index, result) in worker.join().expect("a conformance worker panicked") {
                results[index] = Some(result);
            }
        }
    });
    results
        .into_iter()
        .map(|result| result.expect("every case ran"))
        .collect()
}

fn run_case(case: &Case, gpu: Option<&Gpu>, gpu_turn: &Mutex<()>) -> CaseResult {
    let started = Instant::now();
    let (cpu, gpu) = match guarded(|| case.load()) {
        Err(outcome) => (outcome.clone(), gpu.map(|_| outcome)),
        Ok(loaded) => {
            let cpu = guarded(|| Ok(case.run(&loaded, None))).unwrap_or_else(|o| o);
            let gpu = gpu.map(|gpu| {
                let _turn = gpu_turn
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                guarded(|| Ok(case.run(&loaded, Some(gpu)))).unwrap_or_else(|o| o)
            });
            (cpu, gpu)
        }
    };
    CaseResult {
        cpu,
        gpu,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Runs `step`, turning a panic into a failed outcome.
fn guarded<T>(step: impl FnOnce() -> Result<T, Outcome>) -> Result<T, Outcome> {
    catch_unwind(AssertUnwindSafe(step)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(Outcome::Failed(format!("panicked: {message}")))
    })
}

/// Compares the outcomes with the committed lists (rewriting them under `KILN_CONFORMANCE_UPDATE=1`)
/// and returns what fails the test. `complete` says every case ran (no filter), so a listed case
/// that is missing from the suites counts as a regression.
fn check_lists(cases: &[Case], results: &[CaseResult], complete: bool) -> Vec<String> {
    let update = std::env::var("KILN_CONFORMANCE_UPDATE").as_deref() == Ok("1");
    let mut known = KnownFailures::read();
    let mut problems = Vec::new();
    for backend in ["cpu", "gpu"] {
        let ran: Vec<(&Case, &Outcome)> = cases
            .iter()
            .zip(results)
            .filter_map(|(case, result)| {
                report::outcomes(result)
                    .into_iter()
                    .find(|(name, _)| *name == backend)
                    .map(|(_, outcome)| (case, outcome))
            })
            .collect();
        if ran.is_empty() {
            continue;
        }
        let listed = lists::read_passing(backend);
        let passing: BTreeSet<String> = ran
            .iter()
            .filter(|(_, outcome)| matches!(outcome, Outcome::Passed))
            .map(|(case, _)| case.id.clone())
            .collect();
        let ran_ids: BTreeSet<&str> = ran.iter().map(|(case, _)| case.id.as_str()).collect();
        let mut regressions = Vec::new();
        for id in &listed {
            if !passing.contains(id) && (complete || ran_ids.contains(id.as_str())) {
                let why = ran
                    .iter()
                    .find(|(case, _)| &case.id == id)
                    .map_or("missing from the suites".to_string(), |(_, outcome)| {
                        format!("{outcome:?}")
                    });
                regressions.push(format!(
                    "regression on {backend}: {id} no longer passes: {why}"
                ));
            }
        }
        let new_passes: Vec<&String> = passing.difference(&listed).collect();
        if !new_passes.is_empty() && !update {
            say!(
                "{} case(s) now pass on {backend} but are not in passing_{backend}.txt (KILN_CONFORMANCE_UPDATE=1 adds them): {}",
                new_passes.len(),
                new_passes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
            );
        }
        for (case, outcome) in &ran {
            let listed_reason = known.reason(&case.id, backend).map(str::to_string);
            match (outcome, listed_reason) {
                (Outcome::Failed(why), None) if case.unsupported_ops().is_empty() => {
                    problems.push(format!(
                        "failure on {backend}: {} uses only supported ops but fails: {why}",
                        case.id
                    ));
                }
                (Outcome::Failed(_), _) => {}
                (_, Some(_)) if update => known.remove(&case.id, backend),
                (_, Some(_)) => problems.push(format!(
                    "stale known failure on {backend}: {} no longer fails ({outcome:?}); remove it from known_failures.txt",
                    case.id
                )),
                (_, None) => {}
            }
        }
        if update {
            let kept = listed
                .iter()
                .filter(|id| !ran_ids.contains(id.as_str()))
                .cloned();
            lists::write_passing(backend, &passing.iter().cloned().chain(kept).collect());
            say!("rewrote passing_{backend}.txt");
        } else {
            problems.extend(regressions);
        }
    }
    if update {
        known.write();
    }
    problems
}
