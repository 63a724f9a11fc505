//! Fuzz target: arbitrary bytes into `parse_npy`. A parse may fail, but never panic; a tensor
//! that parses must write, its write must parse, and a second write must be byte-identical.
//! On start-up the seed files are written into the corpus directory if it is empty.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        if let Some(corpus) = std::env::args().skip(1).find(|arg| !arg.starts_with('-')) {
            let seeds = kiln_fuzz::seed_npy_files();
            kiln_fuzz::write_seeds_if_empty(std::path::Path::new(&corpus), seeds, "npy");
        }
    },
    |data: &[u8]| {
        kiln_fuzz::check_npy_round_trip(data);
    }
);
