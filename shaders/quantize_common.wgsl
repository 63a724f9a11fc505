// Shared by QuantizeLinear and DequantizeLinear: the integer type, the scale and zero point of an
// element, and unpacking 8-bit values from the u32 words they are stored in (four per word, low
// byte first, exactly as on the host).
//
// Granularity (params.granularity), for a row-major x viewed as [outer, axis_len, inner]:
//   0 per tensor: one scale;
//   1 per axis:   scale[a] for the element's index a along the axis;
//   2 blocked:    scale has x's shape with the axis cut into `blocks` blocks of `block_size`
//                 (the last one may be partial): scale[outer][a / block_size][inner].

override QUANT_KIND: u32 = 0u; // 0 int8, 1 uint8, 2 int32
override HAS_ZERO_POINT: bool = false;

struct QdqParams {
    count: u32,
    granularity: u32,
    axis_len: u32,
    inner: u32,
    block_size: u32,
    blocks: u32,
}

@group(0) @binding(1) var<storage, read> scale: array<f32>;
// Zero points in the integer type of the quantized tensor, packed like it.
@group(0) @binding(2) var<storage, read> zero_point: array<u32>;
@group(0) @binding(4) var<uniform> params: QdqParams;

fn param_index(index: u32) -> u32 {
    if params.granularity == 0u {
        return 0u;
    }
    let along_axis = (index / params.inner) % params.axis_len;
    if params.granularity == 1u {
        return along_axis;
    }
    let outer = index / (params.inner * params.axis_len);
    let block = along_axis / params.block_size;
    return (outer * params.blocks + block) * params.inner + index % params.inner;
}

// Byte `lane` (0..3) of `word` as an int8 or uint8 value, by QUANT_KIND.
fn unpack_byte(word: u32, lane: u32) -> i32 {
    if QUANT_KIND == 0u {
        return bitcast<i32>(word << (24u - 8u * lane)) >> 24u;
    }
    return i32((word >> (8u * lane)) & 0xffu);
}

fn zero_point_at(index: u32) -> i32 {
    if !HAS_ZERO_POINT {
        return 0;
    }
    return unpack_byte(zero_point[index / 4u], index % 4u);
}
