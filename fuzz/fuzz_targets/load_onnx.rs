//! Fuzz target: arbitrary bytes into `parse_onnx`. A parse may fail, but never panic; a graph
//! that parses must export, its export must parse, and a second round trip must be a fixed point.
//! On start-up the seed models are written into the corpus directory if it is empty.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        if let Some(corpus) = std::env::args().skip(1).find(|arg| !arg.starts_with('-')) {
            let seeds = kiln_fuzz::seed_models();
            kiln_fuzz::write_seeds_if_empty(std::path::Path::new(&corpus), seeds, "onnx");
        }
    },
    |data: &[u8]| {
        kiln_fuzz::check_round_trip(data);
    }
);
