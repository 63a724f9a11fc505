// B as an N:M-sparse weight (layout contract in src/tensor/nm_sparse.rs), expanded into the core's
// dense f32 tile: only the kept values and their position fields are read; every other tile entry
// is 0. The values are exact in f32 (f16 widens exactly), so the core's f32 accumulation is the
// only rounding, as for dense operands.
//
// Assumes: W is [N, K] (B transposed, K contiguous) and shared by every batch. Each thread fills
// four consecutive k of one column, as the other [N, K] loaders do: k0 is a multiple of 16 and the
// quad's offset of 4, so the quad is one whole group (NM_GROUP = 4) or one half of one (8). It reads
// that group's NM_KEPT values and position fields and puts each value whose position falls in the
// quad into its lane. Positions past K are padding whose values are 0 (the contract) and A's
// loaders zero A past K, so the only masks are N and the row's last group.
// Pattern constants, positions (binding 5) and nm_position: nm_positions.wgsl; values (binding 1)
// and nm_value: nm_values_*.wgsl; both joined before this file. params.b_groups_per_row is
// ceil(K / NM_GROUP).

fn load_tile_b(batch: u32, col0: u32, k0: u32, thread: u32) {
    let col = thread / 4u;
    let kq = (thread % 4u) * 4u;
    let n = col0 + col;
    let k = k0 + kq;
    let group = k / NM_GROUP;
    var value = vec4<f32>(0.0);
    if n < params.n && group < params.b_groups_per_row {
        let slots_per_row = params.b_groups_per_row * NM_KEPT;
        let words_per_row = (slots_per_row + NM_FIELDS_PER_WORD - 1u) / NM_FIELDS_PER_WORD;
        // The quad's first position in its group: 0, or 4 for the upper half of a group of 8.
        let quad_start = k % NM_GROUP;
        for (var i = 0u; i < NM_KEPT; i++) {
            let slot = group * NM_KEPT + i;
            // Wraps to a huge value for positions below the quad, so only lanes 0..3 can match.
            let lane = nm_position(n * words_per_row, slot) - quad_start;
            let in_lane = vec4<u32>(lane) == vec4<u32>(0u, 1u, 2u, 3u);
            value = select(value, vec4<f32>(nm_value(n * slots_per_row + slot)), in_lane);
        }
    }
    scatter_b_k4(col, kq, value);
}
