//! The `.weights` half of a Darknet model: a header (`major`, `minor`, `revision` as i32, then the
//! count of images seen in training, a u64 when `major·10 + minor ≥ 2` and an i32 before), then
//! every weighted layer's f32 values in cfg order, little-endian, with nothing after the last. The
//! reader checks each request against the bytes left before allocating, so a cfg that asks for
//! more than the file holds is an error naming the layer, never a huge allocation.

use crate::error::{Error, Result};

/// Reads a `.weights` file's floats in order.
#[derive(Debug)]
pub(super) struct WeightReader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

const F32_BYTES: usize = 4;

impl<'a> WeightReader<'a> {
    /// Reads the header; the reader then stands at the first layer's floats.
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        let header_error = |detail: String| Error::InvalidModel {
            location: "weights header".into(),
            detail,
        };
        let word = |index: usize| -> Result<i32> {
            let start = index * 4;
            bytes
                .get(start..start + 4)
                .map(|word| i32::from_le_bytes([word[0], word[1], word[2], word[3]]))
                .ok_or_else(|| header_error(format!("the file has only {} bytes", bytes.len())))
        };
        let (major, minor) = (word(0)?, word(1)?);
        word(2)?;
        // darknet's load_weights: a 64-bit `seen` from version 0.2 on (major, minor below 1000).
        let wide_seen =
            i64::from(major) * 10 + i64::from(minor) >= 2 && major < 1000 && minor < 1000;
        let header_bytes = if wide_seen { 20 } else { 16 };
        if bytes.len() < header_bytes {
            return Err(header_error(format!(
                "version {major}.{minor} has a {header_bytes}-byte header, the file has only {} bytes",
                bytes.len()
            )));
        }
        Ok(WeightReader {
            bytes,
            offset: header_bytes,
        })
    }

    /// The next `count` floats, for `what` of the layer at `location`; an error naming both when
    /// the file ends first.
    pub fn floats(&mut self, count: usize, what: &str, location: &str) -> Result<Vec<f32>> {
        let left = self.bytes.len() - self.offset;
        let wanted = count
            .checked_mul(F32_BYTES)
            .filter(|&wanted| wanted <= left);
        let Some(wanted) = wanted else {
            return Err(Error::InvalidModel {
                location: location.to_string(),
                detail: format!(
                    "the weights file is too short: {what} need {count} floats from byte {}, but only {left} bytes remain (is the .weights file for this .cfg?)",
                    self.offset
                ),
            });
        };
        let slice = &self.bytes[self.offset..self.offset + wanted];
        self.offset += wanted;
        Ok(slice
            .chunks_exact(F32_BYTES)
            .map(|word| f32::from_le_bytes([word[0], word[1], word[2], word[3]]))
            .collect())
    }

    /// An error when bytes remain after the last layer (`last_layer`, the location of the last
    /// layer that read weights).
    pub fn finish(&self, last_layer: &str) -> Result<()> {
        let left = self.bytes.len() - self.offset;
        if left == 0 {
            return Ok(());
        }
        Err(Error::InvalidModel {
            location: "weights file".into(),
            detail: format!(
                "{left} bytes remain after the last weights, read up to byte {} by {last_layer} (is the .weights file for this .cfg?)",
                self.offset
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::WeightReader;

    fn file(header: &[i32], seen_bytes: usize, floats: &[f32]) -> Vec<u8> {
        let mut bytes: Vec<u8> = header.iter().flat_map(|word| word.to_le_bytes()).collect();
        bytes.extend(std::iter::repeat_n(0u8, seen_bytes));
        bytes.extend(floats.iter().flat_map(|value| value.to_le_bytes()));
        bytes
    }

    #[test]
    fn header_width_follows_the_version() {
        for (version, seen_bytes) in [
            ([0, 2, 0], 8),
            ([1, 0, 0], 8),
            ([0, 1, 0], 4),
            ([1000, 0, 0], 4),
        ] {
            let bytes = file(&version, seen_bytes, &[1.5, -2.0]);
            let mut reader = WeightReader::new(&bytes).unwrap();
            assert_eq!(
                reader.floats(2, "biases", "layer").unwrap(),
                vec![1.5, -2.0],
                "{version:?}"
            );
            reader.finish("layer").unwrap();
        }
    }

    #[test]
    fn short_and_long_files_are_errors() {
        assert!(WeightReader::new(&file(&[0, 2], 0, &[])).is_err());
        assert!(WeightReader::new(&file(&[0, 2, 0], 4, &[])).is_err());
        let bytes = file(&[0, 2, 0], 8, &[1.0, 2.0, 3.0]);
        let mut reader = WeightReader::new(&bytes).unwrap();
        let error = reader
            .floats(4, "biases", "layer 3")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("layer 3") && error.contains("need 4 floats from byte 20"),
            "{error}"
        );
        assert!(reader.floats(usize::MAX, "weights", "layer 3").is_err());
        reader.floats(2, "biases", "layer 3").unwrap();
        let error = reader.finish("layer 3").unwrap_err().to_string();
        assert!(
            error.contains("4 bytes remain") && error.contains("layer 3"),
            "{error}"
        );
    }
}
