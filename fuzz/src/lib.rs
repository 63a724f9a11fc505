//! Shared pieces of kiln's ONNX fuzzing: the property every input must satisfy
//! ([`check_round_trip`]) and valid seed models ([`seed_models`]) that exercise every converter,
//! legacy opset forms, typed tensor fields and declared shapes.

mod builders;
mod seeds;

pub use seeds::seed_models;

use kiln::import::onnx::{parse_onnx, to_onnx_bytes};
use std::path::Path;

/// Writes the seed models into `corpus` when it is missing or empty (a corpus the fuzzer has
/// grown is left alone).
pub fn write_seeds_if_empty(corpus: &Path) {
    let empty = std::fs::read_dir(corpus).map_or(true, |mut entries| entries.next().is_none());
    if !empty {
        return;
    }
    let written = std::fs::create_dir_all(corpus).and_then(|()| {
        seed_models().into_iter().try_for_each(|(name, bytes)| {
            std::fs::write(corpus.join(format!("{name}.onnx")), bytes)
        })
    });
    if let Err(error) = written {
        eprintln!("could not write seeds to {}: {error}", corpus.display());
    }
}

/// Parses `data`; if it is a model, exports it, parses the export, and checks a second export
/// reproduces the first byte for byte. Panics (a fuzz failure) when any of that breaks.
pub fn check_round_trip(data: &[u8]) {
    let Ok(graph) = parse_onnx(data, None) else {
        return;
    };
    let first =
        to_onnx_bytes(&graph).unwrap_or_else(|e| panic!("an imported graph must export: {e}"));
    let reparsed =
        parse_onnx(&first, None).unwrap_or_else(|e| panic!("an exported graph must parse: {e}"));
    let second =
        to_onnx_bytes(&reparsed).unwrap_or_else(|e| panic!("a re-imported graph must export: {e}"));
    let again =
        parse_onnx(&second, None).unwrap_or_else(|e| panic!("a second export must parse: {e}"));
    let third =
        to_onnx_bytes(&again).unwrap_or_else(|e| panic!("a third export must succeed: {e}"));
    assert!(
        second == third,
        "export is not a fixed point after one round trip"
    );
}
