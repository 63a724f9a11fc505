//! Fuzz target: arbitrary bytes into `parse_kiln`. A parse may fail, but never panic; a model
//! that loads must save, its save must load, and a second save must be byte-identical.
//! On start-up the seed files are written into the corpus directory if it is empty.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        if let Some(corpus) = std::env::args().skip(1).find(|arg| !arg.starts_with('-')) {
            let seeds = kiln_fuzz::seed_kiln_files();
            kiln_fuzz::write_seeds_if_empty(std::path::Path::new(&corpus), seeds, "kiln");
        }
    },
    |data: &[u8]| {
        kiln_fuzz::check_kiln_round_trip(data);
    }
);
