//! Placeholder: being built.

use crate::check::SeededRng;
use crate::device::Gpu;
use crate::error::Result;
use crate::selfcheck::CheckRow;

/// Self-check rows of this op family.
pub(super) fn rows(_gpu: &Gpu, _rng: &mut SeededRng) -> Result<Vec<CheckRow>> {
    Ok(Vec::new())
}
