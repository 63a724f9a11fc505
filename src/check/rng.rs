//! A small seeded random generator (SplitMix64) so tests, the self-check and benchmarks draw the
//! same data on every machine without a `rand` dependency.

/// A deterministic pseudo-random generator.
#[derive(Clone, Debug)]
pub struct SeededRng {
    state: u64,
}

impl SeededRng {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float uniform in `[low, high)`.
    pub fn uniform(&mut self, low: f32, high: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        low + (high - low) * unit
    }

    /// An integer uniform in `[low, high]`.
    pub fn int_in(&mut self, low: i32, high: i32) -> i32 {
        let span = (i64::from(high) - i64::from(low) + 1) as u64;
        (i64::from(low) + (self.next_u64() % span) as i64) as i32
    }

    /// `count` floats uniform in `[low, high)`.
    pub fn uniform_vec(&mut self, count: usize, low: f32, high: f32) -> Vec<f32> {
        (0..count).map(|_| self.uniform(low, high)).collect()
    }

    /// `count` integers uniform in `[low, high]`.
    pub fn int_vec(&mut self, count: usize, low: i32, high: i32) -> Vec<i32> {
        (0..count).map(|_| self.int_in(low, high)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::SeededRng;

    #[test]
    fn same_seed_same_sequence_and_in_range() {
        let mut first = SeededRng::new(7);
        let mut second = SeededRng::new(7);
        for _ in 0..1000 {
            let value = first.uniform(-2.0, 3.0);
            assert_eq!(value, second.uniform(-2.0, 3.0));
            assert!((-2.0..3.0).contains(&value));
            let int = first.int_in(-128, 127);
            assert_eq!(int, second.int_in(-128, 127));
            assert!((-128..=127).contains(&int));
        }
        assert_ne!(SeededRng::new(1).next_u64(), SeededRng::new(2).next_u64());
    }
}
