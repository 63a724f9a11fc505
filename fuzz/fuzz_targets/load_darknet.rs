//! Fuzz target: a Darknet `.cfg` text and `.weights` bytes into `parse_darknet`, split from one
//! input (the first two bytes, little endian, give the cfg's length). An import may fail, but
//! never panic, and a model that imports has one graph output per head. On start-up the seed
//! inputs (small valid cfgs with their weights) are written into the corpus directory if empty.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        if let Some(corpus) = std::env::args().skip(1).find(|arg| !arg.starts_with('-')) {
            let seeds = kiln_fuzz::seed_darknet_inputs();
            kiln_fuzz::write_seeds_if_empty(std::path::Path::new(&corpus), seeds, "bin");
        }
    },
    |data: &[u8]| {
        kiln_fuzz::check_darknet(data);
    }
);
