// The slab of the packed-weight convolution's explicit im2col (src/ops/conv/im2col.rs), shared by
// conv_im2col.wgsl and conv_rows_to_nchw.wgsl, which are joined after this file: one thread per
// slab element and the slab's extent. Row r of a slab is output pixel first_row + r over all
// images; row_len is K in the im2col and M (the output channels) in the copy back; out_pixels is
// OH·OW.

const WORKGROUP_SIZE: u32 = 256u;

struct SlabParams {
    first_row: u32,
    rows: u32,
    row_len: u32,
    out_pixels: u32,
}
