//! The properties of the `.npy` and Darknet fuzz targets, and the Darknet seeds: small valid
//! `.cfg` texts with weights of exactly the size they read, packed as the target splits its input.

use kiln::import::darknet::parse_darknet;
use kiln::io::npy::{parse_npy, to_npy_bytes};

/// Parses `data` as a `.npy` file; if it loads, writes it back, parses that, and checks a second
/// write reproduces the first byte for byte (bytes, not tensors, so NaN payloads compare).
/// Panics (a fuzz failure) when any of that breaks.
pub fn check_npy_round_trip(data: &[u8]) {
    let Ok(tensor) = parse_npy(data, "fuzz.npy") else {
        return;
    };
    let first = to_npy_bytes(&tensor).unwrap_or_else(|e| panic!("a parsed tensor must write: {e}"));
    let reparsed =
        parse_npy(&first, "first.npy").unwrap_or_else(|e| panic!("a written .npy must parse: {e}"));
    let second =
        to_npy_bytes(&reparsed).unwrap_or_else(|e| panic!("a re-parsed tensor must write: {e}"));
    assert!(first == second, ".npy write is not a fixed point");
}

/// Splits a fuzz input into a `.cfg` text and `.weights` bytes: the first two bytes (little
/// endian) give the cfg's length, clamped to what follows; the rest are the weights.
pub fn split_darknet_input(data: &[u8]) -> (String, &[u8]) {
    let (length, rest) = match data {
        [low, high, rest @ ..] => (usize::from(u16::from_le_bytes([*low, *high])), rest),
        _ => (0, &[][..]),
    };
    let (cfg, weights) = rest.split_at(length.min(rest.len()));
    (String::from_utf8_lossy(cfg).into_owned(), weights)
}

/// Parses a split input as a Darknet model; one that imports must have one graph output per
/// head, in the same order. Panics (a fuzz failure) otherwise, or on any panic inside.
pub fn check_darknet(data: &[u8]) {
    let (cfg, weights) = split_darknet_input(data);
    let Ok(model) = parse_darknet(&cfg, weights) else {
        return;
    };
    let outputs: Vec<&str> = model
        .graph
        .outputs
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    let heads: Vec<&str> = model.heads.iter().map(|h| h.output.as_str()).collect();
    assert_eq!(outputs, heads, "graph outputs and heads disagree");
}

/// One convolution and a one-anchor head: 7 biases + 7·3 weights.
const CONV_YOLO: &str = "[net]\nwidth=8\nheight=8\nchannels=3\n\n[convolutional]\nfilters=7\n\
size=1\nstride=1\npad=1\nactivation=linear\n\n[yolo]\nmask=0\nanchors=2,3\nclasses=2\nnum=1\n";

/// Batch norm + leaky, maxpool, two heads, a route and an upsample: 4·4 + 4·3·9 for the first
/// convolution, 7 + 7·4 for each head convolution.
const TWO_HEADS: &str = "[net]\nwidth=8\nheight=8\nchannels=3\n\n[convolutional]\n\
batch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n[maxpool]\nsize=2\n\
stride=2\n\n[convolutional]\nsize=1\nstride=1\npad=1\nfilters=7\nactivation=linear\n\n[yolo]\n\
mask=0\nanchors=2,3,4,5\nclasses=2\nnum=2\n\n[route]\nlayers=-3\n\n[upsample]\nstride=2\n\n\
[convolutional]\nsize=1\nstride=1\npad=1\nfilters=7\nactivation=linear\n\n[yolo]\nmask=1\n\
anchors=2,3,4,5\nclasses=2\nnum=2\n";

/// A cfg and `floats` weights after a version 0.2 header, packed as [`split_darknet_input`]
/// reads them. The weights are small distinct values so that the seeds compute something.
fn pack_darknet(cfg: &str, floats: usize) -> Vec<u8> {
    let length = u16::try_from(cfg.len()).expect("seed cfgs are short");
    let mut bytes = length.to_le_bytes().to_vec();
    bytes.extend_from_slice(cfg.as_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    for index in 0..floats {
        bytes.extend_from_slice(&((index % 11) as f32 / 8.0 - 0.5).to_le_bytes());
    }
    bytes
}

/// The Darknet seeds, each `(name, bytes)`; every one imports (checked by a test).
pub fn seed_darknet_inputs() -> Vec<(String, Vec<u8>)> {
    vec![
        ("conv_yolo".into(), pack_darknet(CONV_YOLO, 7 + 7 * 3)),
        (
            "two_heads".into(),
            pack_darknet(TWO_HEADS, 4 * 4 + 4 * 3 * 9 + 2 * (7 + 7 * 4)),
        ),
    ]
}

/// `.npy` seeds: one tensor of each dtype the reader takes, written by kiln's own writer.
pub fn seed_npy_files() -> Vec<(String, Vec<u8>)> {
    use kiln::tensor::HostTensor;
    let tensors = [
        (
            "f32",
            HostTensor::from_f32(&[2, 3], vec![1.5, -2.0, 0.0, 3.25, -0.5, 7.0]),
        ),
        ("i64", HostTensor::from_i64(&[3], vec![-1, 0, 1 << 40])),
        ("scalar", HostTensor::from_f32(&[], vec![4.0])),
    ];
    tensors
        .into_iter()
        .filter_map(|(name, tensor)| {
            let bytes = to_npy_bytes(&tensor.ok()?).ok()?;
            Some((name.to_string(), bytes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn darknet_seeds_import() {
        for (name, bytes) in seed_darknet_inputs() {
            let (cfg, weights) = split_darknet_input(&bytes);
            if let Err(error) = parse_darknet(&cfg, weights) {
                panic!("seed {name}: {error}");
            }
        }
    }

    #[test]
    fn npy_seeds_round_trip() {
        let seeds = seed_npy_files();
        assert_eq!(seeds.len(), 3);
        seeds
            .iter()
            .for_each(|(_, bytes)| check_npy_round_trip(bytes));
    }
}
