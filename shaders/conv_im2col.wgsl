// The explicit im2col of a one-group convolution, for the packed-weight convolution: a slab of
// rows of the patch matrix P [N·OH·OW, K] with K = C·kH·kW, so that conv(x, W) = P·Wᵀ runs on the
// packed-weight matmul kernels (A = P, W [M, K] in its compressed layout) and the rows come back
// to NCHW in conv_rows_to_nchw.wgsl. Row r of the slab is output pixel p = first_row + r over all
// images (image p / (OH·OW)); column k = (c·kH + kh)·kW + kw is input channel c at the tap
// (kh, kw), the weight's own order, so P[p, k] = x[image, c, oh·s − top + kh·d, ow·s − left +
// kw·d], zero in the padding. Every value is a copy: no rounding.
//
// Assumes groups == 1 (the launcher checks it) and slab elements rows·K below 2³² (the launcher
// bounds the slab by the binding limit). One thread per slab element, K fastest, so writes
// coalesce; the grid folds into y past the per-dimension limit (src/ops/grid.rs).
// Bindings: 0 = x (NCHW f32), 1 = the slab (f32, rows·K), 4 = SlabParams (conv_slab.wgsl), 5 =
// conv geometry (conv_geometry.wgsl); both files are joined before this one.

// row_len is K here; out_pixels (OH·OW) is read from the geometry instead.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> patches: array<f32>;
@group(0) @binding(4) var<uniform> slab: SlabParams;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let index = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local.x;
    if index >= slab.rows * slab.row_len {
        return;
    }
    let pixel_index = slab.first_row + index / slab.row_len;
    let k = index % slab.row_len;
    let pixels = conv.out_height * conv.out_width;
    let image = pixel_index / pixels;
    let pixel = pixel_index % pixels;
    let taps = conv.kernel_height * conv.kernel_width;
    let channel = k / taps;
    let tap = k % taps;
    let row = i32((pixel / conv.out_width) * conv.stride_height
        + (tap / conv.kernel_width) * conv.dilation_height) - i32(conv.pad_top);
    let col = i32((pixel % conv.out_width) * conv.stride_width
        + (tap % conv.kernel_width) * conv.dilation_width) - i32(conv.pad_left);
    var value = 0.0;
    if conv_inside(row, col) {
        let plane = (image * conv.channels + channel) * conv.height;
        value = x[(plane + u32(row)) * conv.width + u32(col)];
    }
    patches[index] = value;
}
