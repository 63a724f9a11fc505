//! Shared pieces of kiln's model-file fuzzing: the properties every input must satisfy
//! ([`check_round_trip`] for ONNX, [`check_kiln_round_trip`] for `.kiln`, [`check_npy_round_trip`]
//! for `.npy`, [`check_darknet`] for Darknet) and valid seeds ([`seed_models`], [`seed_kiln_files`],
//! [`seed_npy_files`], [`seed_darknet_inputs`]) that exercise every converter, legacy opset forms,
//! typed tensor fields, declared shapes and packed weight layouts.

mod builders;
mod kiln_seeds;
mod npy_darknet;
mod seeds;

pub use kiln_seeds::seed_kiln_files;
pub use npy_darknet::{
    check_darknet, check_npy_round_trip, seed_darknet_inputs, seed_npy_files, split_darknet_input,
};
pub use seeds::seed_models;

use kiln::format::{parse_kiln, to_kiln_bytes};
use kiln::import::onnx::{parse_onnx, to_onnx_bytes};
use std::path::Path;

/// Writes `seeds` into `corpus` as `<name>.<extension>` when it is missing or empty (a corpus
/// the fuzzer has grown is left alone).
pub fn write_seeds_if_empty(corpus: &Path, seeds: Vec<(String, Vec<u8>)>, extension: &str) {
    let empty = std::fs::read_dir(corpus).map_or(true, |mut entries| entries.next().is_none());
    if !empty {
        return;
    }
    let written = std::fs::create_dir_all(corpus).and_then(|()| {
        seeds.into_iter().try_for_each(|(name, bytes)| {
            std::fs::write(corpus.join(format!("{name}.{extension}")), bytes)
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

/// Parses `data` as a `.kiln` file; if it loads, saves it, loads that, and checks a second save
/// reproduces the first byte for byte. Panics (a fuzz failure) when any of that breaks.
pub fn check_kiln_round_trip(data: &[u8]) {
    let Ok(model) = parse_kiln(data) else {
        return;
    };
    let first = to_kiln_bytes(&model.graph, &model.provenance)
        .unwrap_or_else(|e| panic!("a loaded .kiln graph must save: {e}"));
    let reloaded =
        parse_kiln(&first).unwrap_or_else(|e| panic!("a saved .kiln file must load: {e}"));
    let second = to_kiln_bytes(&reloaded.graph, &reloaded.provenance)
        .unwrap_or_else(|e| panic!("a reloaded .kiln graph must save: {e}"));
    assert!(
        first == second,
        ".kiln save is not a fixed point after one round trip"
    );
}
