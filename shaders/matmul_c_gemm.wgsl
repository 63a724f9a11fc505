// C store of ONNX Gemm: Y = alpha · (A'·B') + beta · C, with C (binding 5) broadcast to [M, N]
// through its strides (0 along a broadcast dimension). Joined with the tiled core, whose epilogue
// runs with HAS_BIAS false and the identity activation, so `value` is the raw product.

override HAS_C: bool = false;

struct GemmParams {
    alpha: f32,
    beta: f32,
    // Elements between C's entries for consecutive rows and columns (0 when broadcast).
    c_row_stride: u32,
    c_col_stride: u32,
}

@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> c_in: array<f32>;
@group(0) @binding(6) var<uniform> gemm: GemmParams;

fn store_c(batch: u32, row: u32, col: u32, value: f32) {
    var result = gemm.alpha * value;
    if HAS_C {
        result += gemm.beta * c_in[row * gemm.c_row_stride + col * gemm.c_col_stride];
    }
    y[batch * params.c_batch_stride + row * params.n + col] = result;
}
