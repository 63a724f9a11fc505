// The packed-weight convolution's last step: a slab of product rows Y [rows, M] (row r is output
// pixel first_row + r over all images, bias and activation already applied by the matmul kernel's
// epilogue) copied into the NCHW output [N, M, OH, OW]. A pure copy: no rounding.
//
// One thread per slab element, pixel fastest, so writes to each output plane coalesce (the reads
// stride by M); the grid folds into y past the per-dimension limit (src/ops/grid.rs).
// Bindings: 0 = the slab's products (f32, rows·M), 3 = y, 4 = SlabParams (conv_slab.wgsl,
// joined before this file).

// row_len is M, the output channels.

@group(0) @binding(0) var<storage, read> products: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> scatter: SlabParams;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let index = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if index >= scatter.rows * scatter.row_len {
        return;
    }
    let channel = index / scatter.rows;
    let row = index % scatter.rows;
    let pixel_index = scatter.first_row + row;
    let image = pixel_index / scatter.out_pixels;
    let pixel = pixel_index % scatter.out_pixels;
    let output = (image * scatter.row_len + channel) * scatter.out_pixels + pixel;
    y[output] = products[row * scatter.row_len + channel];
}
