//! The work list of the BSR kernels: the stored blocks cut into chunks of at most
//! [`max_chunk_blocks`] consecutive blocks of one block row, built once per uploaded matrix.
//!
//! One pass-1 workgroup per chunk (and per tile of activation rows) keeps every workgroup's load
//! within a bound whatever the sparsity pattern: a full block row is split into several chunks
//! instead of leaving one workgroup with all of it while others idle, and a block row without
//! stored blocks costs no workgroup at all. A row's blocks are split into equal shares (sizes
//! differ by at most one) rather than full chunks and a remainder, so no chunk is a sliver.
//! `chunk_ptr` tells the reduce pass which chunks belong to each block row.

use crate::tensor::bsr::BlockShape;

/// Weight elements per chunk at most. Large enough that per-chunk costs (a partial sum per row and
/// output written and re-read by the reduce, a workgroup launch) stay small beside the chunk's
/// work (`R` partials per `CHUNK_ELEMENTS / R` multiply-adds); small enough that a heavy block row
/// of a 4096-wide weight still splits into several chunks. Measured on lavapipe with
/// `kiln bench sparse` (4096² and 1024², 16×16 blocks, two interleaved rounds): 8192 beat 2048 at
/// 75 % and 90 % zero blocks for both M = 1 and M = 256 (e.g. 4096², 75 %, M = 256: 1.97× dense
/// against 1.71 to 1.80×), because fewer partials cross memory; retune on GPUs with many cores.
pub(crate) const CHUNK_ELEMENTS: usize = 8192;

/// The most stored blocks in one chunk for `block`: `CHUNK_ELEMENTS / area` (8 to 512).
pub(crate) fn max_chunk_blocks(block: BlockShape) -> usize {
    (CHUNK_ELEMENTS / block.area()).max(1)
}

/// The chunks of a BSR matrix, in block-row order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WorkList {
    /// Per chunk, the stored blocks `[first, end)` it covers: at least one, all in one block row.
    pub chunks: Vec<[u32; 2]>,
    /// `block rows + 1` offsets into `chunks`: block row `i` owns `chunk_ptr[i]..chunk_ptr[i + 1]`.
    pub chunk_ptr: Vec<u32>,
}

impl WorkList {
    /// Splits each block row of `row_ptr` (a validated BSR `row_ptr`) into
    /// `ceil(blocks / max_blocks)` chunks of near-equal size.
    pub fn build(row_ptr: &[u32], max_blocks: usize) -> Self {
        let mut chunks = Vec::new();
        let mut chunk_ptr = vec![0u32];
        for range in row_ptr.windows(2) {
            let (start, end) = (range[0] as usize, range[1] as usize);
            let blocks = end - start;
            let count = blocks.div_ceil(max_blocks);
            let boundary = |share: usize| (start + blocks * share / count) as u32;
            chunks.extend((0..count).map(|share| [boundary(share), boundary(share + 1)]));
            // Every chunk holds at least one stored block, so the count fits u32 as row_ptr does.
            chunk_ptr.push(chunks.len() as u32);
        }
        WorkList { chunks, chunk_ptr }
    }

    /// The number of chunks.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_rows_have_no_chunks_and_heavy_rows_are_split_evenly() {
        // Block rows with 0, 3, 0, 10 and 4 stored blocks, at most 4 blocks per chunk.
        let list = WorkList::build(&[0, 0, 3, 3, 13, 17], 4);
        assert_eq!(list.chunks, vec![[0, 3], [3, 6], [6, 9], [9, 13], [13, 17]]);
        assert_eq!(list.chunk_ptr, vec![0, 0, 1, 1, 4, 5]);
        assert_eq!(list.len(), 5);
    }

    #[test]
    fn chunks_cover_every_block_once_within_the_bound() {
        let row_ptr = [0, 1, 130, 130, 386, 387];
        for max_blocks in [1, 2, 7, 64, 128, 1000] {
            let list = WorkList::build(&row_ptr, max_blocks);
            let mut next = 0;
            for (block_row, owned) in list.chunk_ptr.windows(2).enumerate() {
                for chunk in &list.chunks[owned[0] as usize..owned[1] as usize] {
                    assert_eq!(chunk[0], next, "chunks must be contiguous and ordered");
                    assert!(chunk[0] < chunk[1], "no empty chunk");
                    assert!((chunk[1] - chunk[0]) as usize <= max_blocks);
                    assert!(chunk[1] <= row_ptr[block_row + 1]);
                    next = chunk[1];
                }
                assert_eq!(
                    next,
                    row_ptr[block_row + 1],
                    "block row {block_row} covered"
                );
            }
        }
    }

    #[test]
    fn chunk_sizes_follow_the_block_area() {
        assert_eq!(max_chunk_blocks(BlockShape::B4x4), 512);
        assert_eq!(max_chunk_blocks(BlockShape::B32x32), 8);
        assert_eq!(max_chunk_blocks(BlockShape::B1x32), 256);
        assert_eq!(max_chunk_blocks(BlockShape::B32x1), 256);
    }
}
